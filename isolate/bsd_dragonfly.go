//go:build dragonfly

package isolate

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DragonFly: x/sys/unix exposes neither the mount(2) argument structures
// of nullfs/tmpfs/devfs nor the reaper procctl commands. Mounts use the
// base system's mount_* tools, as the original dsynth does, and a
// command's tree is killed by process group (a process that leaves the
// group escapes; it dies when the slot's helper exits and its mounts are
// force-unmounted).

func acquireReaper() error { return nil }

func killTree(pid int) { unix.Kill(-pid, unix.SIGKILL) }

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
