//go:build freebsd

package isolate

import (
	"fmt"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FreeBSD slots are jails. After the mounts, the helper creates two
// persistent jails on the slot root with jail_set(2): one without
// addresses (ip4=disable, ip6=disable: the build has no network at all)
// and, on the first command that asks for the network, one that inherits
// the host's addresses. Every command runs through the base system's
// jexec(8) (jail_attach(2), then exec inside the jail: Go cannot call
// jail_attach between fork and exec), so it can neither see nor signal
// host processes (security.jail.see_other_uids aside, processes outside
// the jail are invisible to it), nor leave the root, mount, or change the
// network. The helper stays outside the jail: it must unmount the slot
// when it ends. At its end it removes the jails (jail_remove(2) kills
// whatever still runs in them), then unmounts.
//
// Compiled and vetted for freebsd/amd64 and freebsd/arm64; never run on a
// FreeBSD host (see README, known limits).

const (
	jailCreate = 0x01 // JAIL_CREATE, sys/jail.h
	jexecPath  = "/usr/sbin/jexec"
)

// jails of a slot helper: jid 0 means not created.
type jails struct {
	offline, online int
	hostname        string
}

var slotJails jails

// jailSet calls jail_set(2) with name/value parameters (a nil value is a
// boolean parameter given by name alone) and returns the jail id.
func jailSet(params [][2]*string, flags int) (int, error) {
	var iov []unix.Iovec
	var keep [][]byte
	for _, kv := range params {
		for _, s := range kv {
			v := unix.Iovec{}
			if s != nil {
				b := append([]byte(*s), 0)
				keep = append(keep, b)
				v.Base = &b[0]
				v.SetLen(len(b))
			}
			iov = append(iov, v)
		}
	}
	jid, _, e := unix.Syscall(unix.SYS_JAIL_SET, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), uintptr(flags))
	runtime.KeepAlive(keep)
	runtime.KeepAlive(iov)
	if e != 0 {
		return 0, e
	}
	return int(jid), nil
}

func str(s string) *string { return &s }

// createJail makes a persistent jail rooted at root.
func createJail(root, hostname string, network bool) (int, error) {
	ip := "disable"
	if network {
		ip = "inherit"
	}
	params := [][2]*string{
		{str("path"), str(root)},
		{str("host.hostname"), str(hostname)},
		{str("persist"), nil},
		{str("ip4"), str(ip)},
		{str("ip6"), str(ip)},
		{str("enforce_statfs"), str("2")},
		{str("children.max"), str("0")},
		{str("allow.raw_sockets"), str("0")},
		{str("allow.mount"), str("0")},
		{str("allow.chflags"), str("0")},
		{str("allow.sysvipc"), str("0")},
		{str("securelevel"), str("-1")},
	}
	jid, err := jailSet(params, jailCreate)
	if err != nil {
		return 0, fmt.Errorf("jail_set %s (network %v): %w", root, network, err)
	}
	return jid, nil
}

// setupJail creates the slot's offline jail (setupAfter calls it once the
// mounts are in place).
func (h *helper) setupJail(hostname string) error {
	jid, err := createJail(h.root, hostname, false)
	if err != nil {
		return err
	}
	slotJails = jails{offline: jid, hostname: hostname}
	return nil
}

// wrap runs the command in the slot's jail through jexec (no chroot: the
// jail's root is the slot). A working directory other than / is entered
// inside the jail by its own sh.
func (h *helper) wrap(path string, m message, attr *syscall.ProcAttr) (string, []string, error) {
	jid := slotJails.offline
	if m.Network {
		if slotJails.online == 0 {
			j, err := createJail(h.root, slotJails.hostname, true)
			if err != nil {
				return "", nil, err
			}
			slotJails.online = j
		}
		jid = slotJails.online
	}
	if jid == 0 {
		return "", nil, fmt.Errorf("slot jail not created")
	}
	attr.Sys = &syscall.SysProcAttr{Setsid: true}
	argv := []string{"jexec", strconv.Itoa(jid)}
	if attr.Dir != "" && attr.Dir != "/" {
		argv = append(argv, "/bin/sh", "-c", `cd "$0" && exec "$@"`, attr.Dir)
	}
	attr.Dir = "/"
	argv = append(argv, path)
	argv = append(argv, m.Argv[1:]...)
	return jexecPath, argv, nil
}

// removeJails ends the slot's jails and everything in them.
func removeJails() {
	for _, jid := range []int{slotJails.offline, slotJails.online} {
		if jid != 0 {
			unix.Syscall(unix.SYS_JAIL_REMOVE, uintptr(jid), 0, 0)
		}
	}
	slotJails = jails{}
}
