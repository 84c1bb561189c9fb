//go:build freebsd || dragonfly

package isolate_test

import (
	"testing"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/isolate/isolatetest"
)

// BSD slots share the host's network, host name and process table.
func TestConformance(t *testing.T) {
	isolatetest.RunWith(t, isolatetest.Options{Prepare: isolate.Prepare, Cleanup: isolate.Cleanup, SharedHost: true})
}
