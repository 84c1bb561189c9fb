package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/isolate/lock"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
)

// TestApplyRefusals covers the apply paths that stop before building:
// confirmation declined, build base locked by a live process. They need
// bmake (planning) but not root.
func TestApplyRefusals(t *testing.T) {
	dir, prof := minicatProfile(t)

	stdin = strings.NewReader("no\n")
	defer func() { stdin = os.Stdin }()
	var out, errb bytes.Buffer
	code := run([]string{"apply", prof}, &out, &errb)
	if code != exitError || !strings.Contains(out.String(), "Do you want to build these 3 ports?") || !strings.Contains(out.String(), "Apply cancelled.") {
		t.Errorf("declined apply: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "base", "records.db")); err == nil {
		t.Errorf("a declined apply wrote records")
	}

	release, err := lock.TryLock(filepath.Join(dir, "base"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	out.Reset()
	errb.Reset()
	code = run([]string{"apply", "-auto-approve", prof}, &out, &errb)
	if code != exitError || !strings.Contains(errb.String(), fmt.Sprintf("build base is in use by dsynth process %d", os.Getpid())) {
		t.Errorf("locked apply: exit %d\n%s", code, errb.String())
	}
}

// TestApplyRefusesEditedPlan: a plan edited by hand and digested again
// (with the project's own encoder) is refused before anything is built,
// with validate's words and the field, by every command that reads it.
func TestApplyRefusesEditedPlan(t *testing.T) {
	dir, prof := minicatProfile(t)
	planFile := filepath.Join(dir, "t.plan")
	var out, errb bytes.Buffer
	if code := run([]string{"plan", "-out", planFile, prof}, &out, &errb); code != exitOK {
		t.Fatalf("plan: exit %d\n%s", code, errb.String())
	}
	for _, c := range []struct {
		name, want string
		edit       func(p *plan.Plan)
	}{
		{"packages in /", `profile.packages_dir: Invalid path: packages_dir must not be the root folder "/"`, func(p *plan.Plan) { p.Settings.PackagesDir = "/" }},
		{"100000 workers", "profile.workers.count: Value out of range: count must be between 1 and 256, got 100000.", func(p *plan.Plan) { p.Settings.Workers.Count = 100000 }},
	} {
		f, err := planfile.Read(planFile)
		if err != nil {
			t.Fatal(err)
		}
		p := *f.Plan()
		c.edit(&p)
		if f, err = planfile.Encode(&p); err != nil {
			t.Fatal(err)
		}
		edited := filepath.Join(dir, "edited.plan")
		if err := f.Write(edited); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"apply", "-auto-approve", edited}, {"show", edited}, {"graph", edited}} {
			out.Reset()
			errb.Reset()
			code := run(args, &out, &errb)
			if code == exitOK || !strings.Contains(errb.String(), "invalid plan file") || !strings.Contains(errb.String(), c.want) {
				t.Errorf("%s: %v: exit %d\n%s%s", c.name, args, code, out.String(), errb.String())
			}
		}
	}
	// (Planning alone creates no records file: none means no run.)
	if _, err := os.Stat(filepath.Join(dir, "base", "records.db")); os.IsNotExist(err) {
		return
	}
	db, err := record.Open(filepath.Join(dir, "base", "records.db"), record.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if runs, err := db.RunSummaries(); err != nil || len(runs) != 0 {
		t.Errorf("an edited plan was applied: %d runs recorded (%v)", len(runs), err)
	}
}

// TestApplyNotAPlanFile: an empty, one-byte or otherwise foreign file
// given to apply is said to be no dsynth plan file (it was reported as a
// profile's HCL error that never said "plan file"); a real profile with a
// mistake still gets its diagnostics.
func TestApplyNotAPlanFile(t *testing.T) {
	dir := t.TempDir()
	for _, content := range []string{"", "x", "{", "[", " \n", "\x00", "[1, 2]", `{"name": "x"}`, "hello world\n"} {
		f := filepath.Join(dir, "f.plan")
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		stderr = &errb
		code := run([]string{"apply", "-auto-approve", f}, &out, &errb)
		stderr = os.Stderr
		if code != exitError || !strings.Contains(errb.String(), f+": not a dsynth plan file") || strings.Contains(errb.String(), "Error: ") {
			t.Errorf("%q: exit %d\n%s", content, code, errb.String())
		}
	}
	f := filepath.Join(dir, "p.hcl")
	os.WriteFile(f, []byte("profile \"p\" {\n  ports_dir = \"/x\"\n}\n"), 0o644)
	var out, errb bytes.Buffer
	stderr = &errb
	code := run([]string{"apply", f}, &out, &errb)
	stderr = os.Stderr
	if code != exitError || !strings.Contains(errb.String(), "Missing required argument") {
		t.Errorf("a profile with a mistake: exit %d\n%s", code, errb.String())
	}
}

// minicatProfile writes a profile building misc/minicat of the good tree
// in a fresh folder (skipping without bmake) and returns both.
func minicatProfile(t *testing.T) (dir, prof string) {
	t.Helper()
	if _, err := exec.LookPath("bmake"); err != nil {
		t.Skip("bmake not installed")
	}
	dir = t.TempDir()
	tree, _ := filepath.Abs("../../testdata/ports/good")
	prof = filepath.Join(dir, "p.hcl")
	os.WriteFile(prof, []byte(fmt.Sprintf(`profile "t" {
  ports_dir  = %q
  build_base = "base"
  ports      = ["misc/minicat"]
}
`, tree)), 0o644)
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	return dir, prof
}
