//go:build dragonfly

package isolate

import (
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DragonFly: x/sys/unix exposes neither the mount(2) argument structures
// of nullfs/tmpfs/devfs nor the reaper procctl commands. Mounts use the
// base system's mount_* tools, as the original dsynth does. The helper
// becomes the reaper of the slot's processes (procctl PROC_REAP_ACQUIRE):
// DragonFly has no PROC_REAP_KILL, so a command's tree is killed by its
// process group first, then, as DragonFly's dsynth does, by killing and
// reaping the reaper's first child (PROC_REAP_STATUS pid_head) until none
// is left. Should the reaper not be available, only the process group is
// killed (a process that left the group escapes; it dies when the slot's
// helper exits and its mounts are force-unmounted).
//
// This file is compiled (GOOS=dragonfly vet in CI) but cannot be run on
// the Linux development machines.

// procctl(2) from DragonFly's sys/procctl.h and sys/reaper.h.
const (
	procPID         = 0 // P_PID
	procReapAcquire = 1 // PROC_REAP_ACQUIRE
	procReapStatus  = 3 // PROC_REAP_STATUS
)

// reaperStatus is union reaper_info's struct reaper_status, padded to the
// union's size bound so that the kernel never writes past it.
type reaperStatus struct {
	Flags     uint32
	Refs      uint32
	Reserved1 [15]int64
	PidHead   int32
	Reserved2 [15]int32
	_         [64]byte
}

// reaper is set when the helper holds the reaper role.
var reaper bool

func procctl(cmd int, data unsafe.Pointer) error {
	_, _, e := unix.Syscall6(unix.SYS_PROCCTL, procPID, uintptr(unix.Getpid()), uintptr(cmd), uintptr(data), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// acquireReaper makes the helper the reaper of the processes the slot
// starts (orphans are reparented to it, not to init). Best effort: without
// it killTree falls back to process groups.
func acquireReaper() error {
	reaper = procctl(procReapAcquire, nil) == nil
	return nil
}

// reapHead returns the helper's first child (PROC_REAP_STATUS pid_head,
// LIST_FIRST of the caller's p_children in DragonFly's kern_procctl.c;
// orphans of the slot are reparented to the helper, the reaper), 0: none.
func reapHead() int {
	var st reaperStatus
	err := procctl(procReapStatus, unsafe.Pointer(&st))
	runtime.KeepAlive(&st)
	if err != nil || st.PidHead <= 0 {
		return 0
	}
	return int(st.PidHead)
}

// killTree kills the command's process group, then every other process
// of the reaper's list: each is killed and reaped so the next one shows.
// The command itself (pid) is left to the helper's wait loop, which calls
// killTree again once it has reaped it (afterExit).
func killTree(pid int) {
	unix.Kill(-pid, unix.SIGKILL)
	if !reaper {
		return
	}
	self, parent := unix.Getpid(), unix.Getppid()
	for range 4096 {
		head := reapHead()
		if head <= 1 || head == pid || head == self || head == parent {
			return
		}
		unix.Kill(-head, unix.SIGKILL)
		unix.Kill(head, unix.SIGKILL)
		var ws unix.WaitStatus
		// ECHILD when the helper's wait loop reaped it first.
		for {
			if _, err := unix.Wait4(head, &ws, 0, nil); err != unix.EINTR {
				break
			}
		}
	}
}

func mountTool(tool string, args ...string) error {
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func mountTmpfs(p string, mode uint32, size int64) error {
	args := []string{"-m", strconv.FormatUint(uint64(mode), 8)}
	if size > 0 {
		args = append(args, "-s", strconv.FormatInt(size, 10))
	}
	return mountTool("/sbin/mount_tmpfs", append(args, "-o", "nosuid", "tmpfs", p)...)
}

func mountNullfs(src, p string, ro bool) error {
	o := "rw"
	if ro {
		o = "ro"
	}
	return mountTool("/sbin/mount_null", "-o", o, src, p)
}

func mountDevfs(p string) error { return mountTool("/sbin/mount_devfs", "devfs", p) }

func mountProcfs(p string, ro bool) error {
	o := "rw"
	if ro {
		o = "ro"
	}
	return mountTool("/sbin/mount_procfs", "-o", o, "procfs", p)
}
