//go:build dragonfly

package isolate

import (
	"fmt"
	"net"
	"strings"
	"syscall"
)

// DragonFly slots: every command runs in a jail of its own made by the
// base system's jail(8) in the forked child, rooted at the slot, with the
// slot's host name: it can neither see nor signal host processes nor
// leave the root. (jail(2) on DragonFly locks the calling process itself
// in the new jail and has no jail_set(2)/persistent jails to attach to
// later, so the helper, which must stay outside to unmount the slot,
// leaves the call to jail(8) between its fork and the command's exec.)
//
// DragonFly's jail(2) (struct jail version 1) takes an explicit address
// list; jail(8) passes an empty list as n_ips = 0, a jail with no address
// at all (kern_jail.c: "multi noIP/IPv4/IPv6 jails"). Decision:
//   - Cmd.Network false: the empty list. The command has no IPv4/IPv6
//     address, so it can bind and connect nothing, the host's loopback
//     included (a 127.0.0.1 jail would reach host services listening on
//     127.0.0.1, such as dsynth's own API).
//   - Cmd.Network true: the host's addresses at the time of the command
//     (net.InterfaceAddrs; IPv6 link-local ones left out, jail(8) cannot
//     parse a zone), the nearest DragonFly has to FreeBSD's ip4=inherit.
//     An address added to the host later is not seen by a running jail.
//
// Compiled and vetted for dragonfly/amd64; never run on a DragonFly host
// (see README, known limits).

const jailPath = "/usr/sbin/jail"

var dflyHostname string

func (h *helper) setupJail(hostname string) error {
	dflyHostname = hostname
	return nil
}

// hostAddrs lists the host's addresses as jail(8) takes them.
func hostAddrs() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", fmt.Errorf("host addresses: %w", err)
	}
	var out []string
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLinkLocalUnicast() || n.IP.IsUnspecified() {
			continue
		}
		out = append(out, n.IP.String())
	}
	if len(out) == 0 {
		return "", fmt.Errorf("host addresses: none usable for a networked jail")
	}
	return strings.Join(out, ","), nil
}

func (h *helper) wrap(path string, m message, attr *syscall.ProcAttr) (string, []string, error) {
	ips := "" // no address
	if m.Network {
		var err error
		if ips, err = hostAddrs(); err != nil {
			return "", nil, err
		}
	}
	if dflyHostname == "" {
		return "", nil, fmt.Errorf("slot jail not set up")
	}
	// jail(8) chdirs to the slot and chroots there itself (jail(2)).
	attr.Sys = &syscall.SysProcAttr{Setsid: true}
	argv := []string{"jail", h.root, dflyHostname, ips}
	if attr.Dir != "" && attr.Dir != "/" {
		argv = append(argv, "/bin/sh", "-c", `cd "$0" && exec "$@"`, attr.Dir)
	}
	attr.Dir = "/"
	argv = append(argv, path)
	argv = append(argv, m.Argv[1:]...)
	return jailPath, argv, nil
}

// removeJails: a jail(8) jail ends with its last process (killTree).
func removeJails() {}

// removeSlotJails: DragonFly jails have no name to find them by; a
// command left running by a killed helper keeps its jail (README, known
// limits).
func removeSlotJails(dir string) []string { return nil }
