//go:build dragonfly

package isolate

import (
	"syscall"
)

// DragonFly slots: every command without the network runs in a jail of
// its own through the base system's jail(8), rooted at the slot, with
// 127.0.0.1 as its only address: it can neither see nor signal host
// processes nor leave the root, and reaches no other host. (jail(2) on
// DragonFly locks the calling process itself in the new jail, so the
// helper, which must stay outside to unmount the slot, leaves that to
// jail(8) in the forked child.) Commands given the network keep the plain
// chroot: DragonFly jails take an explicit address list, which dsynth
// does not know.
//
// Compiled and vetted for dragonfly/amd64; never run on a DragonFly host
// (see README, known limits).

const jailPath = "/usr/sbin/jail"

func (h *helper) setupJail(hostname string) error {
	dflyHostname = hostname
	return nil
}

var dflyHostname string

func (h *helper) wrap(path string, m message, attr *syscall.ProcAttr) (string, []string, error) {
	if m.Network {
		return path, m.Argv, nil // chroot (cmdSysProcAttr)
	}
	attr.Sys = &syscall.SysProcAttr{Setsid: true}
	argv := []string{"jail", h.root, dflyHostname, "127.0.0.1"}
	if attr.Dir != "" && attr.Dir != "/" {
		argv = append(argv, "/bin/sh", "-c", `cd "$0" && exec "$@"`, attr.Dir)
	}
	attr.Dir = "/"
	argv = append(argv, path)
	argv = append(argv, m.Argv[1:]...)
	return jailPath, argv, nil
}

// removeJails: a jail(8) jail ends with its last process.
func removeJails() {}
