package isolate_test

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/go-dsynth/dsynth/isolate"
)

// Commands in a slot run with BuildUmask whatever dsynth's own umask is.
func TestSlotUmask(t *testing.T) {
	needRoot(t)
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	l := testLayout(t)
	s, err := isolate.Prepare(context.Background(), l, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Teardown()
	var out, errb bytes.Buffer // two buffers: Run copies stdout and stderr concurrently
	st, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"sh", "-c", "umask"},
		Env: []string{"PATH=/usr/bin:/bin"}, Stdout: &out, Stderr: &errb})
	if err != nil || st != 0 {
		t.Fatalf("umask: %d %v %s", st, err, errb.String())
	}
	if got := strings.TrimSpace(out.String()); got != "0022" {
		t.Errorf("umask in slot = %s, want 0022", got)
	}
}
