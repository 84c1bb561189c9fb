package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/plan/planfile"
)

// planProfile writes a profile building targets from the good test tree
// with everything else under a temp dir, and returns its path.
func planProfile(t *testing.T, targets string) string {
	t.Helper()
	tree, err := filepath.Abs("../../testdata/ports/good")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prof := filepath.Join(dir, "p.hcl")
	src := `profile "t" {
  ports_dir  = "` + tree + `"
  build_base = "` + dir + `/base"
  ports      = ` + targets + `
}
`
	if err := os.WriteFile(prof, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return prof
}

func TestPlanShowGraph(t *testing.T) {
	prof := planProfile(t, `["misc/optioned", "sysutils/needs-ignored"]`)
	out := filepath.Join(t.TempDir(), "x.plan")

	code, stdout, stderrS := runCmd(t, "plan", "-detailed-exitcode", "-out", out, prof)
	if code != exitChanges {
		t.Fatalf("plan -detailed-exitcode: exit %d\n%s\n%s", code, stdout, stderrS)
	}
	for _, w := range []string{"+ misc/optioned", "! sysutils/ignored", "- sysutils/needs-ignored",
		"skipped: sysutils/ignored is ignored", "+ ports-mgmt/pkg", "Plan: ", "Saved the plan to " + out} {
		if !strings.Contains(stdout, w) {
			t.Errorf("plan output lacks %q:\n%s", w, stdout)
		}
	}
	if !strings.Contains(stderrS, "make runs") {
		t.Errorf("stderr lacks the scan line: %q", stderrS)
	}

	code, shown, _ := runCmd(t, "show", out)
	if code != 0 || !strings.Contains(shown, "+ misc/optioned") || !strings.Contains(shown, "Plan: ") {
		t.Fatalf("show: exit %d\n%s", code, shown)
	}
	code, js, _ := runCmd(t, "show", "-json", out)
	var doc struct {
		FormatVersion int             `json:"format_version"`
		Digest        string          `json:"digest"`
		Profile       json.RawMessage `json:"profile"`
		Tree          json.RawMessage `json:"tree"`
		Ports         []struct {
			Origin, Flavor, PkgName, Version, CRC32, InputKey, Action, Reason string
			Deps                                                              map[string][]string
		} `json:"ports"`
	}
	if code != 0 || json.Unmarshal([]byte(js), &doc) != nil || doc.FormatVersion != planfile.FormatVersion || len(doc.Digest) != 64 ||
		len(doc.Profile) == 0 || len(doc.Tree) == 0 || len(doc.Ports) == 0 {
		t.Fatalf("show -json: exit %d\n%.400s", code, js)
	}
	saved, _ := os.ReadFile(out)
	if js != string(saved) {
		t.Error("show -json differs from the plan file")
	}

	code, dot, _ := runCmd(t, "graph", out)
	if code != 0 || !strings.HasPrefix(dot, "digraph dsynth {") || !strings.Contains(dot, `"misc/optioned" -> "devel/libmini" [label="lib"]`) {
		t.Fatalf("graph: exit %d\n%s", code, dot)
	}
	code, gj, _ := runCmd(t, "graph", "-format", "json", out)
	if code != 0 || !strings.Contains(gj, `"edges"`) {
		t.Fatalf("graph -format json: exit %d\n%s", code, gj)
	}
	if code, _, e := runCmd(t, "graph", "-format", "svg", out); code != 1 || !strings.Contains(e, "dot or json") {
		t.Fatalf("graph -format svg: exit %d %s", code, e)
	}

	// A corrupt plan is refused by show and graph.
	bad := filepath.Join(t.TempDir(), "bad.plan")
	os.WriteFile(bad, saved[:len(saved)/2], 0o644)
	for _, cmd := range []string{"show", "graph"} {
		if code, _, e := runCmd(t, cmd, bad); code != 1 || !strings.Contains(e, "corrupt plan file") {
			t.Errorf("%s of a truncated plan: exit %d, %q", cmd, code, e)
		}
	}
	// A file that is not a plan at all is said to be so (not taken for
	// a run ID).
	dir := t.TempDir()
	for name, content := range map[string]string{"foreign.json": `{"a":1}`, "empty.plan": "", "binary": "\x7fELF\x02\x01"} {
		f := filepath.Join(dir, name)
		os.WriteFile(f, []byte(content), 0o644)
		for _, cmd := range []string{"show", "graph"} {
			if code, _, e := runCmd(t, cmd, f); code != 1 || !strings.Contains(e, "not a dsynth plan file") {
				t.Errorf("%s %s: exit %d, %q", cmd, name, code, e)
			}
		}
	}
}

func TestPlanJSONAndErrors(t *testing.T) {
	prof := planProfile(t, `["misc/minicat"]`)
	code, js, _ := runCmd(t, "plan", "-json", prof)
	if code != 0 || !strings.Contains(js, `"format_version": 4`) || !strings.Contains(js, `"flavor": ""`) {
		t.Fatalf("plan -json: exit %d\n%.300s", code, js)
	}
	prof = planProfile(t, `["misc/nosuch", "devel/alsonot"]`)
	code, _, e := runCmd(t, "plan", prof)
	if code != 1 || !strings.Contains(e, "2 errors") || !strings.Contains(e, "missing port misc/nosuch, needed by a profile target") {
		t.Fatalf("plan of missing ports: exit %d\n%s", code, e)
	}
}

// TestPlanKeepGoing: an explicit target that failed to plan makes plan
// exit 1 after showing the plan; -keep-going saves the plan of the rest;
// "all" never fails for one port. show lists the failed nodes.
func TestPlanKeepGoing(t *testing.T) {
	tree, _ := filepath.Abs("../../testdata/ports/errors")
	dir := t.TempDir()
	write := func(name, targets string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(`profile "t" {
  ports_dir  = "`+tree+`"
  build_base = "`+dir+`/base"
  ports      = `+targets+`
}
`), 0o644)
		return p
	}
	explicit := write("explicit.hcl", `["misc/needs-make-error", "misc/ok"]`)
	out := filepath.Join(dir, "x.plan")
	code, stdout, stderrS := runCmd(t, "plan", "-out", out, explicit)
	if code != exitError || !strings.Contains(stdout, "x devel/make-error") || !strings.Contains(stdout, "- misc/needs-make-error") ||
		!strings.Contains(stderrS, "needed by misc/needs-make-error (BUILD_DEPENDS)") || !strings.Contains(stderrS, "-keep-going") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderrS)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed plan was saved")
	}
	code, stdout, stderrS = runCmd(t, "plan", "-keep-going", "-out", out, explicit)
	if code != 0 || !strings.Contains(stdout, "skipped: devel/make-error failed to plan") || !strings.Contains(stdout, "1 failed") {
		t.Fatalf("plan -keep-going: exit %d\n%s\n%s", code, stdout, stderrS)
	}
	code, shown, _ := runCmd(t, "show", out)
	if code != 0 || !strings.Contains(shown, "x devel/make-error") || !strings.Contains(shown, "failed: make -V failed") {
		t.Fatalf("show: exit %d\n%s", code, shown)
	}
	code, stdout, stderrS = runCmd(t, "plan", write("all.hcl", `["all"]`))
	if code != 0 || !strings.Contains(stdout, "x devel/syntax-error") || !strings.Contains(stdout, "+ misc/ok") {
		t.Fatalf("plan of all: exit %d\n%s\n%s", code, stdout, stderrS)
	}
}
