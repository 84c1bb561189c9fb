package nohook

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/isolate"
)

func TestPrepareWithoutHook(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	base := t.TempDir() + "/build"
	start := time.Now()
	_, err := isolate.Prepare(context.Background(), isolate.Layout{BuildBase: base}, 1)
	if err == nil || !strings.Contains(err.Error(), "isolate.MaybeRunHelper") {
		t.Fatalf("Prepare without the hook: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to fail", d)
	}
	if _, err := os.Lstat(isolate.SlotDir(base, 1)); !os.IsNotExist(err) {
		t.Errorf("slot dir left: %v", err)
	}
}
