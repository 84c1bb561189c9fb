package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testportSetup copies tree (symlinks followed: testdata/ports/testport
// shares Mk and ports-mgmt/pkg with the good tree) and writes p.hcl.
func testportSetup(t *testing.T, tree string) string {
	t.Helper()
	dir := e2eSetup(t, "misc/none")
	if err := os.RemoveAll(filepath.Join(dir, "ports")); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-rL", tree, filepath.Join(dir, "ports")).CombinedOutput(); err != nil {
		t.Fatalf("copy tree: %v\n%s", err, out)
	}
	prof := `profile "e2e" {
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
	if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestE2ETestDemoPorts: every port of the demo tree passes dsynth test.
func TestE2ETestDemoPorts(t *testing.T) {
	dir := testportSetup(t, "../../examples/ports")
	for _, o := range []string{"ports-mgmt/pkg", "devel/libgreet", "misc/hello", "misc/fortune-lite",
		"textproc/wc2", "textproc/wc2@color", "meta/demo-all"} {
		out, code := dsynth(t, dir, "test", "p.hcl", o)
		mustCode(t, out, code, 0, "test "+o)
		if !strings.Contains(out, "checks passed") && !strings.Contains(out, "every check passed") {
			t.Errorf("test %s: no verdict:\n%s", o, out)
		}
		if strings.Contains(out, "FAIL") {
			t.Errorf("test %s: a check failed:\n%s", o, out)
		}
	}
	// The dependencies were built by an apply, recorded, and reused.
	out, code := dsynth(t, dir, "test", "p.hcl", "misc/hello")
	mustCode(t, out, code, 0, "test misc/hello again")
	if strings.Contains(out, "Building the dependencies") {
		t.Errorf("dependencies built again:\n%s", out)
	}
	noLeftovers(t, filepath.Join(dir, "base"))
}

// TestE2ETestFailingPorts: each port of testdata/ports/testport fails
// exactly the check it is made to fail, naming the file.
func TestE2ETestFailingPorts(t *testing.T) {
	dir := testportSetup(t, "../../testdata/ports/testport")
	out, code := dsynth(t, dir, "test", "p.hcl", "misc/all-good")
	mustCode(t, out, code, 0, "test misc/all-good")
	for _, c := range []struct{ origin, check, problem string }{
		{"misc/plist-orphan", "check-plist", "Orphaned: /usr/local/share/plist-orphan/extra"},
		{"misc/plist-missing", "check-plist", "Missing: /usr/local/share/plist-missing/absent"},
		{"misc/outside-prefix", "stage-qa", "outside PREFIX: /etc/outside.conf"},
		{"misc/abs-symlink", "stage-qa", "absolute symlink into the stage: /usr/local/bin/abs-symlink -> /construction/"},
		{"misc/bad-shebang", "stage-qa", "shebang: /usr/local/bin/bad-shebang: interpreter /usr/local/bin/no-such-interpreter not found"},
		{"misc/leftover", "leftovers", "/usr/local/etc/leftover.state"},
		{"misc/test-fails", "test", "test-fails: 1 of 3 tests failed"},
	} {
		out, code := dsynth(t, dir, "test", "p.hcl", c.origin)
		mustCode(t, out, code, exitFailed, "test "+c.origin)
		if !strings.Contains(out, "FAIL  "+c.check) || !strings.Contains(out, c.problem) {
			t.Errorf("test %s: want %s failing with %q:\n%s", c.origin, c.check, c.problem, out)
		}
		if want := fmt.Sprintf("%s: 1 of 6 checks failed: %s", c.origin, c.check); !strings.Contains(out, want) {
			t.Errorf("test %s: want exactly one failed check (%q):\n%s", c.origin, want, out)
		}
		log, err := os.ReadFile(filepath.Join(dir, "base", "logs", "test", strings.ReplaceAll(c.origin, "/", "___")+".log"))
		if err != nil || !strings.Contains(string(log), "=== check "+c.check+": FAIL ===") || !strings.Contains(string(log), c.problem) {
			t.Errorf("test %s: the log does not report the check (%v):\n%s", c.origin, err, log)
		}
	}
	// -i without a terminal says so and tests as without it.
	out, code = dsynth(t, dir, "test", "-i", "p.hcl", "misc/test-fails")
	mustCode(t, out, code, exitFailed, "test -i misc/test-fails")
	if !strings.Contains(out, "-i needs a terminal") || strings.Contains(out, "a shell in slot") {
		t.Errorf("test -i without a terminal:\n%s", out)
	}
	// Usage errors and unknown ports exit 1.
	out, code = dsynth(t, dir, "test", "p.hcl")
	mustCode(t, out, code, exitError, "test without an origin")
	out, code = dsynth(t, dir, "test", "p.hcl", "misc/no-such-port")
	mustCode(t, out, code, exitError, "test misc/no-such-port")
	noLeftovers(t, filepath.Join(dir, "base"))
}
