//go:build freebsd

package isolate

import (
	"crypto/sha256"
	"encoding/hex"
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
// host processes (a jailed process sees only its own jail's: p_cansee
// and p_cansignal go through prison_check), the helper included, nor
// leave the root, mount, or change the network. The helper stays outside
// the jail: it must unmount the slot when it ends. At its end it removes
// the jails (jail_remove(2) kills whatever still runs in them), then
// unmounts. The jails are named after the slot directory (jailName), so
// Teardown and Cleanup remove those of a helper that was killed first.
//
// Compiled and vetted for freebsd/amd64 and freebsd/arm64; never run on a
// FreeBSD host (see README, known limits).

const (
	jailCreate = 0x01 // JAIL_CREATE, sys/jail.h
	jexecPath  = "/usr/sbin/jexec"
	// devfsRuleset is devfsrules_jail of /etc/defaults/devfs.rules: the
	// slot's /dev is mounted with it (mountDevfs) and the jail records it.
	devfsRuleset = 4
)

// jails of a slot helper: jid 0 means not created.
type jails struct {
	offline, online int
	hostname        string
}

var slotJails jails

// jailParam is one jail_set(2) parameter. The kernel reads each by its
// type (sys/kern/kern_jail.c, kern_jail_set): strings (path,
// host.hostname) NUL-terminated via vfs_getopt; integers (enforce_statfs,
// children.max, securelevel, devfs_ruleset) and the jailsys parameters
// (ip4, ip6: JAIL_SYS_DISABLE/NEW/INHERIT) via vfs_copyopt, which fails
// with EINVAL unless the value is exactly a C int; booleans (persist,
// allow.*) via vfs_flagopt, which only looks at the name: "allow.mount"
// with any value, even "0", turns the permission on, and "allow.nomount"
// turns it off. This is what jail(8)/libjail send.
type jailParam struct {
	name string
	str  *string // string value
	num  *int32  // int value
	// neither: a boolean given by name alone
}

func jstr(name, v string) jailParam { return jailParam{name: name, str: &v} }
func jint(name string, v int32) jailParam {
	return jailParam{name: name, num: &v}
}
func jflag(name string) jailParam { return jailParam{name: name} }

// jailsys values of ip4/ip6 (sys/jail.h).
const (
	jailSysDisable = 0 // JAIL_SYS_DISABLE
	jailSysNew     = 1 // JAIL_SYS_NEW
	jailSysInherit = 2 // JAIL_SYS_INHERIT
)

// jailParams returns the parameters of a slot jail rooted at root.
// network false: ip4=disable and ip6=disable without addresses (the jail
// has no IPv4/IPv6 address at all, so sockets of those families cannot
// reach anything, the host's loopback included); true: ip4/ip6=inherit
// (the host's addresses). Every default-off permission is given off
// (allow.no*), no child jails, statfs shows only the jail's mounts, and devfs ruleset 4
// (devfsrules_jail, as poudriere) is recorded for the jail.
func jailParams(root, hostname string, network bool) []jailParam {
	ip := int32(jailSysDisable)
	if network {
		ip = jailSysInherit
	}
	params := []jailParam{
		jstr("path", root),
		jstr("host.hostname", hostname),
		jflag("persist"),
		jint("ip4", ip),
		jint("ip6", ip),
		jint("enforce_statfs", 2),
		jint("children.max", 0),
		jint("securelevel", -1),
		jint("devfs_ruleset", devfsRuleset),
	}
	// Every allow.* boolean of FreeBSD 13/14 that defaults to off, given
	// as its no-form so that a host whose security.jail.* sysctls turn
	// one on by default does not pass it to the slot (allow.mount.* need
	// allow.mount). allow.suser stays on (the slot's root must chown
	// when staging) and allow.unprivileged_proc_debug at the host's
	// default: both act only inside the jail.
	for _, a := range []string{"set_hostname", "sysvipc", "raw_sockets", "chflags", "mount", "quotas", "socket_af", "mlock", "reserved_ports", "read_msgbuf"} {
		params = append(params, jflag("allow.no"+a))
	}
	return params
}

// jailSet calls jail_set(2) with params and returns the jail id.
func jailSet(params []jailParam, flags int) (int, error) {
	var iov []unix.Iovec
	var keep [][]byte
	add := func(b []byte) {
		v := unix.Iovec{}
		if len(b) > 0 {
			keep = append(keep, b)
			v.Base = &b[0]
			v.SetLen(len(b))
		}
		iov = append(iov, v)
	}
	for _, p := range params {
		add(append([]byte(p.name), 0))
		switch {
		case p.str != nil:
			add(append([]byte(*p.str), 0))
		case p.num != nil:
			b := make([]byte, 4)
			*(*int32)(unsafe.Pointer(&b[0])) = *p.num // native byte order, a C int
			add(b)
		default:
			add(nil)
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

// jailName names the slot's jail (network or not) after the slot
// directory, so that Teardown and Cleanup find the persistent jails of a
// helper that was killed before it could remove them. (A jail name may
// not contain '.', and an all-digit one would be read as a jid.)
func jailName(root string, network bool) string {
	sum := sha256.Sum256([]byte(root))
	suffix := "_off"
	if network {
		suffix = "_net"
	}
	return "dsynth_" + hex.EncodeToString(sum[:8]) + suffix
}

// createJail makes a persistent jail rooted at root.
func createJail(root, hostname string, network bool) (int, error) {
	params := append(jailParams(root, hostname, network), jstr("name", jailName(root, network)))
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

// jailByName returns the jid of the jail named name (jail_get(2) keyed
// by name), 0 if there is none.
func jailByName(name string) int {
	b := append([]byte(name), 0)
	k := []byte("name\x00")
	iov := make([]unix.Iovec, 2)
	iov[0].Base, iov[1].Base = &k[0], &b[0]
	iov[0].SetLen(len(k))
	iov[1].SetLen(len(b))
	jid, _, e := unix.Syscall(unix.SYS_JAIL_GET, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), 0)
	runtime.KeepAlive(k)
	runtime.KeepAlive(b)
	runtime.KeepAlive(iov)
	if e != 0 {
		return 0
	}
	return int(jid)
}

// removeSlotJails removes the jails of the slot at dir that a killed
// helper left (jail_remove(2) kills what still runs in them), before its
// mounts are undone from outside.
func removeSlotJails(dir string) []string {
	var done []string
	for _, network := range []bool{false, true} {
		name := jailName(dir, network)
		if jid := jailByName(name); jid > 0 {
			if _, _, e := unix.Syscall(unix.SYS_JAIL_REMOVE, uintptr(jid), 0, 0); e == 0 {
				done = append(done, fmt.Sprintf("removed jail %s (%d) of %s", name, jid, dir))
			}
		}
	}
	return done
}
