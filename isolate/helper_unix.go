//go:build linux || freebsd || dragonfly

package isolate

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// MaybeRunHelper turns the process into a slot helper when it was started
// as one by Prepare (which re-executes the running binary), and then never
// returns. Otherwise it returns at once. Call it first thing in main (and
// in TestMain of tests that prepare slots).
func MaybeRunHelper() {
	if len(os.Args) != 2 || os.Args[0] != helperArg0 || os.Getenv(helperEnv) == "" {
		return
	}
	os.Exit(helperMain(os.Args[1]))
}

// helper is the slot side of the protocol.
type helper struct {
	root    string
	extra   []*os.File // helperFiles, from fd 4 on
	devnull *os.File
	conn    *net.UnixConn
	nice0   int // the helper's own niceness at start (BSD)

	mu     sync.Mutex
	cur    int // pid of the running command, 0 if none
	killed bool
}

func helperMain(root string) int {
	setBuildUmask()
	h := &helper{root: root}
	nextra, err := strconv.Atoi(os.Getenv(helperEnv))
	if err != nil || nextra < 0 || nextra > 16 {
		fmt.Fprintf(os.Stderr, "slot helper: bad %s\n", helperEnv)
		return 1
	}
	for i := range nextra {
		h.extra = append(h.extra, os.NewFile(uintptr(4+i), "extra"))
	}
	if err := closeOnExecAll(); err != nil {
		fmt.Fprintf(os.Stderr, "slot helper: %v\n", err)
		return 1
	}
	// SIGTERM (Cleanup's first try) and SIGHUP end the slot in order:
	// kill what runs, unmount where the kernel does not, exit.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-sigs
		h.exit()
		os.Exit(0)
	}()
	fc, err := net.FileConn(os.NewFile(3, "slot-socket"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "slot helper: %v\n", err)
		return 1
	}
	h.conn = fc.(*net.UnixConn)
	buf := make([]byte, maxMessage)
	m, files, err := recvMsg(h.conn, buf)
	closeAll(files)
	if err != nil || m.Op != "setup" {
		fmt.Fprintf(os.Stderr, "slot helper: no setup message: %v\n", err)
		return 1
	}
	if m.Layout == nil {
		fmt.Fprintf(os.Stderr, "slot helper: setup without layout\n")
		return 1
	}
	if err := h.setup(*m.Layout, m.Hostname); err != nil {
		sendMsg(h.conn, message{Op: "error", Error: err.Error()})
		h.exit()
		return 1
	}
	if err := sendMsg(h.conn, message{Op: "ready"}); err != nil {
		h.exit()
		return 1
	}
	for {
		m, files, err := recvMsg(h.conn, buf)
		if err != nil {
			// dsynth is gone (EOF): kill what runs and leave.
			h.exit()
			return 0
		}
		switch m.Op {
		case "run":
			h.run(m, files)
		case "kill":
			h.kill()
		case "exit":
			h.exit()
			return 0
		default:
			closeAll(files)
		}
	}
}

func (h *helper) setup(l Layout, hostname string) error {
	entries, err := Entries(l)
	if err != nil {
		return err
	}
	if err := h.setupBefore(); err != nil {
		return err
	}
	for _, e := range entries {
		if err := applyEntry(h.root, e); err != nil {
			return fmt.Errorf("%s %s: %w", e.Op, e.Target, err)
		}
	}
	if err := h.setupAfter(hostname); err != nil {
		return err
	}
	h.devnull, err = os.OpenFile(filepath.Join(h.root, "dev/null"), os.O_RDWR, 0)
	return err
}

// run starts m's command and replies "done" from a goroutine when it ends.
func (h *helper) run(m message, files []*os.File) {
	fail := func(err error) {
		closeAll(files)
		sendMsg(h.conn, message{Op: "done", Status: -1, Error: err.Error()})
	}
	nwant := 0
	if m.HasStdin {
		nwant++
	}
	if m.HasStdout {
		nwant++
	}
	if m.HasStderr {
		nwant++
	}
	if len(files) != nwant {
		fail(fmt.Errorf("got %d output descriptors, want %d", len(files), nwant))
		return
	}
	stdin, stdout, stderr := h.devnull, h.devnull, h.devnull
	i := 0
	if m.HasStdin {
		stdin = files[i]
		i++
	}
	if m.HasStdout {
		stdout = files[i]
		i++
	}
	if m.HasStderr {
		stderr = files[i]
	}
	if len(m.Argv) == 0 {
		fail(errors.New("empty argv"))
		return
	}
	path, err := lookPathIn(h.root, m.Argv[0], m.Env)
	if err != nil {
		fail(err)
		return
	}
	dir := m.Dir
	if dir == "" {
		dir = "/"
	}
	env := m.Env
	if env == nil {
		env = []string{}
	}
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: []uintptr{stdin.Fd(), stdout.Fd(), stderr.Fd()},
		Sys:   cmdSysProcAttr(h.root),
	}
	// The system may run the command through a wrapper (a jail on the
	// BSDs).
	path, m.Argv, err = h.wrap(path, m, attr)
	if err != nil {
		fail(err)
		return
	}
	pid, err := h.start(path, m, attr)
	closeAll(files)
	if err != nil {
		fail(fmt.Errorf("start %s: %w", m.Argv[0], err))
		return
	}
	h.mu.Lock()
	h.cur, h.killed = pid, false
	h.mu.Unlock()
	go func() {
		reply := message{Op: "done"}
		ws, err := reapUntil(pid)
		// Nothing the command started outlives it.
		if afterExit(pid) {
			reapStragglers()
		}
		h.mu.Lock()
		reply.Killed = h.killed
		h.cur = 0
		h.mu.Unlock()
		switch {
		case err != nil:
			reply.Status, reply.Error = -1, err.Error()
		case ws.Signaled():
			reply.Status = 128 + int(ws.Signal())
		default:
			reply.Status = ws.ExitStatus()
		}
		sendMsg(h.conn, reply)
	}()
}

// start forks the command on a locked thread prepared by beforeFork
// (network namespace, niceness); the thread is thrown away afterwards
// (the goroutine ends without unlocking it).
func (h *helper) start(path string, m message, attr *syscall.ProcAttr) (int, error) {
	type result struct {
		pid int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := h.beforeFork(m); err != nil {
			ch <- result{0, err}
			return
		}
		pid, err := syscall.ForkExec(path, m.Argv, attr)
		ch <- result{pid, err}
	}()
	r := <-ch
	return r.pid, r.err
}

// reapUntil reaps children (orphans reparented to the helper included)
// until pid exits.
func reapUntil(pid int) (syscall.WaitStatus, error) {
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return ws, fmt.Errorf("wait: %w", err)
		}
		if wpid == pid {
			return ws, nil
		}
	}
}

// reapStragglers reaps killed leftovers for up to a second.
func reapStragglers() {
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil { // ECHILD: nothing left
			return
		}
		if wpid == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func (h *helper) kill() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur != 0 {
		h.killed = true
		killTree(h.cur)
	}
}

// exit kills what runs in the slot and undoes the mounts where the kernel
// does not (BSD).
func (h *helper) exit() {
	h.kill()
	h.mu.Lock()
	cur := h.cur
	h.mu.Unlock()
	if cur != 0 {
		reapStragglers()
	}
	h.release()
}

// lookPathIn finds argv0 in the slot the way execvp would inside the
// chroot: along PATH from the command's environment, following symlinks
// inside root.
func lookPathIn(root, argv0 string, env []string) (string, error) {
	if strings.Contains(argv0, "/") {
		return argv0, nil
	}
	path := "/usr/bin:/bin:/usr/sbin:/sbin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		cand := filepath.Join(d, argv0)
		if p, err := resolveInRoot(root, cand); err == nil {
			if fi, err := os.Stat(filepath.Join(root, p)); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return cand, nil
			}
		}
	}
	return "", fmt.Errorf("%s: executable file not found in slot PATH %s", argv0, path)
}

// resolveInRoot resolves the symlinks of p (absolute, as seen in the
// slot) with root as "/", returning the resolved slot path.
func resolveInRoot(root, p string) (string, error) {
	todo := strings.Split(strings.TrimPrefix(filepath.Clean(p), "/"), "/")
	cur := "/"
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		if c == "" || c == "." {
			continue
		}
		if c == ".." {
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return "", fmt.Errorf("%s: too many symlinks", p)
		}
		dest, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(dest) {
			cur = "/"
		}
		todo = append(strings.Split(strings.TrimPrefix(dest, "/"), "/"), todo...)
	}
	return cur, nil
}

// killLeftovers kills the slot helper named by dir's pid file if it is
// still alive (and really is that slot's helper: its arguments say so),
// waits until it is gone, and removes the slot's jails it left.
func killLeftovers(dir string) ([]string, error) {
	done, err := killLeftoverHelper(dir)
	// The jails a killed helper left (FreeBSD) go before the mounts.
	return append(done, removeSlotJails(dir)...), err
}

func killLeftoverHelper(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, pidFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 || !isHelperOf(pid, dir) {
		return nil, nil
	}
	// SIGTERM lets the helper end the slot in order; SIGKILL if it does
	// not (a stopped helper, for one).
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGKILL} {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("kill slot helper %d: %w", pid, err)
		}
		for i := 0; i < 100 && isHelperOf(pid, dir); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if !isHelperOf(pid, dir) {
			break
		}
	}
	if isHelperOf(pid, dir) {
		return nil, fmt.Errorf("slot helper %d does not die", pid)
	}
	return []string{fmt.Sprintf("killed slot helper %d of %s", pid, dir)}, nil
}

// isHelperOf reports whether pid is alive (not a zombie) with the
// arguments of dir's slot helper.
func isHelperOf(pid int, dir string) bool {
	args, err := procArgs(pid)
	return err == nil && args == helperArg0+"\x00"+dir+"\x00"
}
