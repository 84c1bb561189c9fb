package isolate_test

import (
	"os"
	"testing"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/isolate/isolatetest"
)

// The test binary is re-executed as slot helper and as crash child.
func TestMain(m *testing.M) {
	isolate.MaybeRunHelper()
	isolatetest.MaybeRunCrashChild(isolate.Prepare)
	os.Exit(m.Run())
}
