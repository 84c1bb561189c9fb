//go:build freebsd || dragonfly

package isolate_test

import (
	"runtime"
	"testing"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/isolate/isolatetest"
)

// BSD slots share the host's network (a networked command) and have no
// Linux capabilities or /proc/net; FreeBSD's jails give them a process
// table of their own (DragonFly's jail(8) too, but only for commands
// without the network, so the check stays off there).
func TestConformance(t *testing.T) {
	isolatetest.RunWith(t, isolatetest.Options{Prepare: isolate.Prepare, Cleanup: isolate.Cleanup, SharedHost: true,
		OwnProcesses: runtime.GOOS == "freebsd"})
}
