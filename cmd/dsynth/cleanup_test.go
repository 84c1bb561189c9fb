package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/isolate/lock"
)

func TestCleanupCommand(t *testing.T) {
	base := t.TempDir()
	keep := filepath.Join(base, "packages", "All", "p.pkg")
	os.MkdirAll(filepath.Dir(keep), 0o755)
	os.WriteFile(keep, []byte("pkg"), 0o644)
	slot := filepath.Join(base, "SL01")
	os.MkdirAll(filepath.Join(slot, "construction"), 0o755)

	for _, c := range []struct {
		name     string
		args     []string
		setup    func(t *testing.T) func()
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "missing base", args: []string{"cleanup", "-build-base", filepath.Join(base, "nope")},
			wantOut: "nothing to clean: build base " + filepath.Join(base, "nope") + " does not exist\n"},
		{name: "held", args: []string{"cleanup", "-build-base", base},
			setup: func(t *testing.T) func() {
				release, err := lock.TryLock(base, nil)
				if err != nil {
					t.Fatal(err)
				}
				return func() { release() }
			},
			wantCode: exitError, wantErr: fmt.Sprintf("refusing to clean %s: build base is in use by dsynth process %d", base, os.Getpid())},
		{name: "leftover", args: []string{"cleanup", "-build-base", base}, wantOut: "removed " + slot + "\n"},
		{name: "clean", args: []string{"cleanup", "-build-base", base}, wantOut: "nothing to clean in " + base + "\n"},
		{name: "usage", args: []string{"cleanup"}, wantCode: exitError, wantErr: "expected exactly one argument"},
		{name: "both", args: []string{"cleanup", "-build-base", base, "x.hcl"}, wantCode: exitError, wantErr: "-build-base takes no profile argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				defer c.setup(t)()
			}
			var out, errb bytes.Buffer
			code := run(c.args, &out, &errb)
			if code != c.wantCode || out.String() != c.wantOut || !strings.Contains(errb.String(), c.wantErr) {
				t.Errorf("code %d stdout %q stderr %q; want %d %q %q", code, out.String(), errb.String(), c.wantCode, c.wantOut, c.wantErr)
			}
		})
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "pkg" {
		t.Errorf("packages touched: %q %v", b, err)
	}
}
