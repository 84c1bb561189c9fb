//go:build freebsd || dragonfly

package isolate_test

import (
	"testing"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/isolate/isolatetest"
)

// BSD slots are jails (FreeBSD: jail_set(2) and jexec; DragonFly: a
// jail(8) per command): their processes, host name and, without
// Cmd.Network, lack of any address are checked (Jail). They still share
// the host's mount table (the slot's mounts are made outside the jail),
// have no Linux capabilities and no /proc/net, so those checks stay off
// (SharedHost). Never run yet: no BSD host runs these tests (README,
// known limits).
func TestConformance(t *testing.T) {
	isolatetest.RunWith(t, isolatetest.Options{Prepare: isolate.Prepare, Cleanup: isolate.Cleanup, SharedHost: true, Jail: true})
}
