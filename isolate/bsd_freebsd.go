//go:build freebsd

package isolate

import (
	"fmt"
	"runtime"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// procctl(2) constants and struct procctl_reaper_kill from FreeBSD's
// sys/procctl.h (not exposed by x/sys/unix).
const (
	procPID           = 0 // P_PID
	procReapAcquire   = 2 // PROC_REAP_ACQUIRE
	procReapKill      = 6 // PROC_REAP_KILL
	reaperKillSubtree = 0x2
)

type procctlReaperKill struct {
	Sig     int32
	Flags   uint32
	Subtree int32
	Killed  uint32
	Fpid    int32
	Pad     [15]uint32
}

func procctl(cmd int, data unsafe.Pointer) error {
	_, _, e := unix.Syscall6(unix.SYS_PROCCTL, procPID, uintptr(unix.Getpid()), uintptr(cmd), uintptr(data), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// acquireReaper makes the helper the reaper of every process the slot
// starts: orphans are reparented to it, not to init.
func acquireReaper() error {
	if err := procctl(procReapAcquire, nil); err != nil {
		return fmt.Errorf("procctl PROC_REAP_ACQUIRE: %w", err)
	}
	return nil
}

// killTree kills the command and every descendant of it, including those
// that left its process group or were orphaned (PROC_REAP_KILL of the
// reaper subtree rooted at pid).
func killTree(pid int) {
	unix.Kill(-pid, unix.SIGKILL)
	rk := procctlReaperKill{Sig: int32(unix.SIGKILL), Flags: reaperKillSubtree, Subtree: int32(pid)}
	procctl(procReapKill, unsafe.Pointer(&rk))
	runtime.KeepAlive(&rk)
}

// nmount calls nmount(2) with name/value option pairs.
func nmount(opts [][2]string, flags int) error {
	iov := make([]unix.Iovec, 0, 2*len(opts))
	var keep [][]byte
	for _, kv := range opts {
		for _, s := range kv {
			b := append([]byte(s), 0)
			keep = append(keep, b)
			v := unix.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			iov = append(iov, v)
		}
	}
	_, _, e := unix.Syscall(unix.SYS_NMOUNT, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), uintptr(flags))
	runtime.KeepAlive(keep)
	runtime.KeepAlive(iov)
	if e != 0 {
		return fmt.Errorf("nmount %v: %w", opts, e)
	}
	return nil
}

func mountTmpfs(p string, mode uint32, size int64) error {
	opts := [][2]string{{"fstype", "tmpfs"}, {"fspath", p}, {"mode", strconv.FormatUint(uint64(mode), 8)}}
	if size > 0 {
		opts = append(opts, [2]string{"size", strconv.FormatInt(size, 10)})
	}
	return nmount(opts, unix.MNT_NOSUID)
}

func mountNullfs(src, p string, ro bool) error {
	flags := 0
	if ro {
		flags |= unix.MNT_RDONLY
	}
	return nmount([][2]string{{"fstype", "nullfs"}, {"fspath", p}, {"target", src}}, flags)
}

// mountDevfs mounts the slot's /dev with devfs ruleset 4
// (devfsrules_jail: null, zero, random, ptys, fd, std streams; no disks,
// no mem, no bpf), as poudriere's jails have it. The helper mounts it
// outside the jail, so the jail's devfs_ruleset parameter alone would not
// apply; the devfs "ruleset" mount option does (mount_devfs -o ruleset=4).
// The ruleset must be loaded (devfs_load_rulesets, on by default): an
// unknown ruleset number is created empty by the kernel and hides nothing.
func mountDevfs(p string) error {
	return nmount([][2]string{{"fstype", "devfs"}, {"fspath", p}, {"ruleset", strconv.Itoa(devfsRuleset)}}, 0)
}

func mountProcfs(p string, ro bool) error {
	flags := unix.MNT_NOSUID | unix.MNT_NOEXEC
	if ro {
		flags |= unix.MNT_RDONLY
	}
	return nmount([][2]string{{"fstype", "procfs"}, {"fspath", p}}, flags)
}
