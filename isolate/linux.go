//go:build linux

package isolate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

func helperExe() (string, error) { return "/proc/self/exe", nil }

// helperFiles passes the host's network namespace (fd 4 in the helper) for
// commands with Cmd.Network.
func helperFiles() ([]*os.File, error) {
	f, err := os.Open("/proc/self/ns/net")
	if err != nil {
		return nil, fmt.Errorf("host network namespace: %w", err)
	}
	return []*os.File{f}, nil
}

// helperSysProcAttr: the helper gets a process group of its own, so that
// terminal signals (^C) reach dsynth, which then tears slots down, and not
// the helper.
func helperSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Setpgid: true,
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
	}
}

// setupBefore makes every mount of the new namespace private: nothing
// propagates to or from the host.
func (h *helper) setupBefore() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	return nil
}

func (h *helper) setupAfter(hostname string) error {
	if err := unix.Sethostname([]byte(hostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := pivotInto(h.root); err != nil {
		return err
	}
	h.root = "/"
	return nil
}

// pivotInto makes root the helper's root and working directory and
// drops the host's tree from its mount namespace (pivot_root(".", ".")
// then a lazy unmount of the old root stacked on top, as pivot_root(2)
// describes). From then on no process of the slot, the helper included,
// has a root or working directory on the host: /proc/<pid>/root and cwd
// lead back into the slot.
func pivotInto(root string) error {
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("pivot_root: chdir %s: %w", root, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", root, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("pivot_root: detach the host root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("pivot_root: chdir /: %w", err)
	}
	return nil
}

// closeOnExecAll marks every descriptor from 3 on close-on-exec:
// descriptors dsynth inherited without the flag (from its own parent)
// and those it passed to the helper (the socket, the host network
// namespace) never reach a command. Commands get exactly stdin, stdout
// and stderr.
func closeOnExecAll() error {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list descriptors: %w", err)
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 {
			continue
		}
		unix.CloseOnExec(fd) // the listing's own descriptor is gone by now: EBADF is fine
	}
	return nil
}

// release: the kernel drops the mount namespace, and every slot mount with
// it, when the helper exits.
func (h *helper) release() {}

// cmdSysProcAttr: each command is chrooted, in a new session, and PID 1 of
// a PID namespace of its own.
func cmdSysProcAttr(root string) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Chroot: root, Cloneflags: syscall.CLONE_NEWPID, Setsid: true}
}

// wrap runs commands as they are: the helper lives in the slot's
// namespaces and root already.
func (h *helper) wrap(path string, m message, attr *syscall.ProcAttr) (string, []string, error) {
	return path, m.Argv, nil
}

// keptCaps are the only capabilities a command keeps (bounding set, and
// so permitted and effective at exec): what a ports build needs as root
// for staging (ownership, modes, setuid bits, files it made read-only,
// a test binding a low port). Everything else leaves the bounding set:
// with it root in a slot could mount, remount the read-only binds, chroot
// out, trace or read other processes (CAP_SYS_PTRACE: /proc/<pid>/root,
// fd, mem of the helper), open host files by handle, create device
// nodes, load modules or reconfigure a networked command's host network.
// docs/isolate.md says why each kept one is there.
var keptCaps = map[uintptr]bool{
	unix.CAP_CHOWN: true, unix.CAP_DAC_OVERRIDE: true, unix.CAP_FOWNER: true, unix.CAP_FSETID: true,
	unix.CAP_SETGID: true, unix.CAP_SETUID: true, unix.CAP_NET_BIND_SERVICE: true,
}

// maxCap bounds the capability numbers tried (the kernel's CAP_LAST_CAP
// is 40 today; PR_CAPBSET_DROP answers EINVAL past it).
const maxCap = 63

// beforeFork runs on the locked thread that forks the command: network
// namespace, niceness, capabilities and no_new_privs are per-thread on
// Linux and inherited. The bounding set limits what the command gets at
// exec; the inheritable and ambient sets are emptied (root's exec adds
// the inheritable set to the permitted one whatever the bounding set
// says); no_new_privs keeps setuid and file capabilities from giving
// anything back. The forked child keeps the helper's capabilities until
// exec (it still needs CAP_SYS_CHROOT for the chroot).
func (h *helper) beforeFork(m message) error {
	for c := uintptr(0); c <= maxCap; c++ {
		if keptCaps[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if m.Network {
		if len(h.extra) == 0 {
			return fmt.Errorf("no host network namespace")
		}
		if err := unix.Setns(int(h.extra[0].Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("join host network: %w", err)
		}
	}
	if m.Nice != 0 {
		// The raw syscall returns 20 - nice.
		cur, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
		if err != nil {
			return fmt.Errorf("getpriority: %w", err)
		}
		nice := min(max(20-cur+m.Nice, -20), 19)
		if err := unix.Setpriority(unix.PRIO_PROCESS, 0, nice); err != nil {
			return fmt.Errorf("setpriority: %w", err)
		}
	}
	return nil
}

// killTree kills the command: PID 1 of its namespace, so the kernel kills
// every process in it.
func killTree(pid int) { unix.Kill(pid, unix.SIGKILL) }

// afterExit: when a PID namespace's init exits the kernel kills the rest.
func afterExit(pid int) bool { return false }

func applyEntry(root string, e Entry) error {
	p := filepath.Join(root, e.Target)
	switch e.Op {
	case OpTmpfs:
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		opts := fmt.Sprintf("mode=%o", uint32(e.Mode)&0o7777)
		if e.Size > 0 {
			opts += fmt.Sprintf(",size=%d", e.Size)
		}
		return unix.Mount("tmpfs", p, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts)
	case OpBind:
		if err := makeMountPoint(e.Source, p); err != nil {
			return err
		}
		if err := unix.Mount(e.Source, p, "", unix.MS_BIND, ""); err != nil {
			return err
		}
		if e.ReadOnly {
			// A read-only bind needs a second, remounting call.
			return unix.Mount("", p, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "")
		}
		return nil
	case OpDev:
		return makeDev(p)
	case OpProc:
		if err := os.MkdirAll(p, 0o555); err != nil {
			return err
		}
		flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
		if e.ReadOnly {
			flags |= unix.MS_RDONLY
		}
		return unix.Mount("proc", p, "proc", flags, "")
	}
	return applyPlain(root, e)
}

// makeDev builds the minimal /dev: a small tmpfs with the usual character
// devices and the /proc/self/fd links.
func makeDev(p string) error {
	if err := os.MkdirAll(p, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755,size=1m"); err != nil {
		return err
	}
	nodes := []struct {
		name         string
		major, minor uint32
	}{
		{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
	}
	for _, n := range nodes {
		np := filepath.Join(p, n.name)
		if err := unix.Mknod(np, unix.S_IFCHR|0o666, int(unix.Mkdev(n.major, n.minor))); err != nil {
			return err
		}
		if err := unix.Chmod(np, 0o666); err != nil {
			return err
		}
	}
	links := [][2]string{{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}}
	for _, l := range links {
		if err := os.Symlink(l[1], filepath.Join(p, l[0])); err != nil {
			return err
		}
	}
	shm := filepath.Join(p, "shm")
	if err := os.Mkdir(shm, 0o755); err != nil {
		return err
	}
	return unix.Chmod(shm, 0o1777)
}

// loopbackUp brings lo up in the helper's (new) network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// mountPoints lists the mount points of /proc/self/mountinfo.
func mountPoints() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("mount table: %w", err)
	}
	return parseMountinfo(data), nil
}

func parseMountinfo(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		out = append(out, unescapeMount(f[4]))
	}
	return out
}

// unescapeMount decodes the octal escapes (\040) of mountinfo fields.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// forceUnmount detaches lazily (MNT_DETACH): the mount leaves the tree at
// once even while busy.
const forceUnmount = unix.MNT_DETACH

// procArgs returns pid's NUL-separated arguments (empty for a zombie).
func procArgs(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return string(b), err
}

// removeSlotJails: Linux slots have no jails (the namespaces end with the
// helper).
func removeSlotJails(dir string) []string { return nil }
