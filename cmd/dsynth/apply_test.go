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
)

// TestApplyRefusals covers the apply paths that stop before building:
// confirmation declined, build base locked by a live process. They need
// bmake (planning) but not root.
func TestApplyRefusals(t *testing.T) {
	if _, err := exec.LookPath("bmake"); err != nil {
		t.Skip("bmake not installed")
	}
	dir := t.TempDir()
	tree, _ := filepath.Abs("../../testdata/ports/good")
	prof := filepath.Join(dir, "p.hcl")
	os.WriteFile(prof, []byte(fmt.Sprintf(`profile "t" {
  ports_dir  = %q
  build_base = "base"
  ports      = ["misc/minicat"]
}
`, tree)), 0o644)
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))

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

	release, err := lock.TryLock(filepath.Join(dir, "base"))
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
