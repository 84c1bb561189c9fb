//go:build freebsd || dragonfly

package isolate

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// BSD slots: no namespaces. The helper mounts into the host mount table
// below the slot directory, is the slot processes' reaper (procctl), and
// unmounts everything, deepest first, when it exits. Commands run in
// jails (jail_freebsd.go, jail_dragonfly.go).

func helperExe() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("slot helper: %w", err)
	}
	return exe, nil
}

func helperFiles() ([]*os.File, error) { return nil, nil }

func helperSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

func (h *helper) setupBefore() error {
	nice, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return fmt.Errorf("getpriority: %w", err)
	}
	h.nice0 = nice
	return acquireReaper()
}

// setupAfter writes the pid file again on the slot's root tmpfs: the one
// dsynth wrote in the slot directory is hidden below it while the slot is
// mounted, and Cleanup must find the helper of a live slot. (The slot sees
// it as /helper.pid.)
func (h *helper) setupAfter(hostname string) error {
	if err := os.WriteFile(filepath.Join(h.root, pidFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	return h.setupJail(hostname)
}

// release unmounts the slot, deepest first, forcing: the slot's processes
// are dead by now.
func (h *helper) release() {
	removeJails()
	if _, err := unmountAll(h.root, true); err != nil {
		fmt.Fprintf(os.Stderr, "slot helper: %v\n", err)
	}
}

func cmdSysProcAttr(root string) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Chroot: root, Setsid: true}
}

// beforeFork sets the helper's niceness (process-wide on the BSDs) to the
// command's before forking it; the helper itself only waits.
func (h *helper) beforeFork(m message) error {
	nice := min(max(h.nice0+m.Nice, -20), 20)
	if err := unix.Setpriority(unix.PRIO_PROCESS, 0, nice); err != nil {
		return fmt.Errorf("setpriority: %w", err)
	}
	return nil
}

// afterExit kills what the command left running.
func afterExit(pid int) bool {
	killTree(pid)
	return true
}

func applyEntry(root string, e Entry) error {
	p := filepath.Join(root, e.Target)
	switch e.Op {
	case OpTmpfs:
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		return mountTmpfs(p, uint32(e.Mode)&0o7777, e.Size)
	case OpBind:
		if err := makeMountPoint(e.Source, p); err != nil {
			return err
		}
		return mountNullfs(e.Source, p, e.ReadOnly)
	case OpDev:
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		return mountDevfs(p)
	case OpProc:
		if err := os.MkdirAll(p, 0o555); err != nil {
			return err
		}
		return mountProcfs(p, e.ReadOnly)
	}
	return applyPlain(root, e)
}

// mountPoints lists the mount points of the mount table (getfsstat).
func mountPoints() ([]string, error) {
	n, err := unix.Getfsstat(nil, unix.MNT_NOWAIT)
	if err != nil {
		return nil, fmt.Errorf("mount table: getfsstat: %w", err)
	}
	buf := make([]unix.Statfs_t, n+16)
	n, err = unix.Getfsstat(buf, unix.MNT_NOWAIT)
	if err != nil {
		return nil, fmt.Errorf("mount table: getfsstat: %w", err)
	}
	out := make([]string, 0, n)
	for i := range buf[:n] {
		out = append(out, unix.ByteSliceToString(buf[i].Mntonname[:]))
	}
	return out, nil
}

// forceUnmount unmounts even while files are open below the mount.
const forceUnmount = unix.MNT_FORCE

// procArgs returns pid's NUL-separated arguments (kern.proc.args).
func procArgs(pid int) (string, error) {
	b, err := unix.SysctlRaw("kern.proc.args", pid)
	if err != nil {
		return "", fmt.Errorf("kern.proc.args.%s: %w", strconv.Itoa(pid), err)
	}
	return string(b), nil
}

// closeOnExecAll marks every descriptor from 3 on close-on-exec, so that
// commands get exactly stdin, stdout and stderr (descriptors dsynth
// inherited without the flag, and the helper's socket, stay behind).
func closeOnExecAll() error {
	var rl unix.Rlimit
	limit := 4096
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur > 0 && int64(rl.Cur) < int64(limit) {
		limit = int(rl.Cur)
	}
	for fd := 3; fd < limit; fd++ {
		unix.CloseOnExec(fd)
	}
	return nil
}
