package testport_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/internal/buildtest"
	"github.com/go-dsynth/dsynth/internal/testtool"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/execute/testport"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/spec"
)

func TestMain(m *testing.M) {
	isolate.MaybeRunHelper()
	os.Exit(m.Run())
}

// setup copies testdata/ports/testport, plans target with tests enabled
// and builds its dependencies with Apply (real slots, as root).
func setup(t *testing.T, target string) (*plan.Plan, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (slots)")
	}
	testtool.Need(t, "bmake")
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-rL", "../../testdata/ports/testport", filepath.Join(dir, "ports")).CombinedOutput(); err != nil {
		t.Fatalf("copy tree: %v\n%s", err, out)
	}
	src := `profile "tp" {
  ports_dir  = "ports"
  build_base = "base"
  ports      = ["ports-mgmt/pkg"]
  workers {
    count    = 1
    throttle = false
  }
  environment {
    network = "none"
  }
}
`
	prof := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(prof, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	l, diags := spec.Load(prof, spec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	pr := l.Profile
	pr.Targets, pr.Tests = []string{target}, true
	p, _, err := plan.Create(t.Context(), plan.Options{Profile: pr})
	if err != nil {
		t.Fatal(err)
	}
	dp := l.Profile
	dp.Targets = testport.DepTargets(p, target)
	deps, _, err := plan.Create(t.Context(), plan.Options{Profile: dp})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := buildtest.Apply(t, t.Context(), execute.Options{Plan: buildtest.PlanFile(t, deps), Isolator: execute.SlotIsolator(execute.SlotLayout(deps))})
	if err != nil || !sum.Complete() {
		t.Fatalf("dependencies: %+v %v", sum, err)
	}
	return p, dir
}

// TestShellOnFailure: with Shell set, a failed test runs /bin/sh in the
// kept slot (the build environment, WRKDIR as working directory), reading
// its commands from Shell.Stdin, and the slot goes once it exits.
func TestShellOnFailure(t *testing.T) {
	p, dir := setup(t, "misc/test-fails")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var report, shOut, shErr bytes.Buffer
	res, err := testport.Run(ctx, testport.Options{Plan: p, Node: "misc/test-fails",
		Isolator: execute.SlotIsolator(execute.SlotLayout(p)), Out: &report,
		Shell: &testport.Shell{Stdin: strings.NewReader("pwd\necho \"env $PORTSDIR $LOCALBASE\"\ntest -d stage && echo staged\nexit 7\n"), Stdout: &shOut, Stderr: &shErr}})
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Failed(); len(f) != 1 || f[0] != testport.CheckTest {
		t.Fatalf("failed checks %v, want [test]\n%s", f, report.String())
	}
	want := "/construction/xports/misc/test-fails/work\nenv /xports /usr/local\nstaged\n"
	if shOut.String() != want {
		t.Errorf("shell output %q, want %q (stderr %q)", shOut.String(), want, shErr.String())
	}
	if !strings.Contains(shErr.String(), "a shell in slot SL01") || !strings.Contains(shErr.String(), "shell ended (exit status 7)") {
		t.Errorf("shell messages: %q", shErr.String())
	}
	if sl, _ := filepath.Glob(filepath.Join(dir, "base", "SL*")); len(sl) > 0 {
		t.Errorf("slot left after the shell: %v", sl)
	}

	// A test that passes opens no shell.
	shOut.Reset()
	shErr.Reset()
	p2, _ := setup(t, "devel/interp")
	res, err = testport.Run(ctx, testport.Options{Plan: p2, Node: "devel/interp",
		Isolator: execute.SlotIsolator(execute.SlotLayout(p2)),
		Shell:    &testport.Shell{Stdin: strings.NewReader("echo no\n"), Stdout: &shOut, Stderr: &shErr}})
	if err != nil || len(res.Failed()) != 0 {
		t.Fatalf("devel/interp: %v %v", res.Checks, err)
	}
	if shOut.Len()+shErr.Len() != 0 {
		t.Errorf("a shell ran after a passing test: %q %q", shOut.String(), shErr.String())
	}
}

func TestDepTargets(t *testing.T) {
	p := &plan.Plan{PkgNode: "ports-mgmt/pkg", Ports: []plan.Node{
		{ID: "devel/b"}, {ID: "devel/t"},
		{ID: "misc/a", Deps: map[plan.DepKind][]string{plan.DepBuild: {"devel/b"}, plan.DepTest: {"devel/t", "devel/b"}, plan.DepRun: {"misc/a"}}},
		{ID: "ports-mgmt/pkg"},
	}}
	got := strings.Join(testport.DepTargets(p, "misc/a"), " ")
	if got != "devel/b devel/t ports-mgmt/pkg" {
		t.Errorf("DepTargets %q", got)
	}
	if d := testport.DepTargets(p, "ports-mgmt/pkg"); len(d) != 0 {
		t.Errorf("DepTargets of pkg: %v", d)
	}
}
