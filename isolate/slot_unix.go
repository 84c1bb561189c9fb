//go:build linux || freebsd || dragonfly

package isolate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A slot is run by a slot helper: Prepare re-executes the running binary
// (marked by argv[0] and an environment variable, see MaybeRunHelper). The
// helper makes the slot's mounts, then serves run requests over a
// SOCK_SEQPACKET socket pair: JSON messages, with the command's stdout and
// stderr descriptors passed along (SCM_RIGHTS). When dsynth dies the
// socket closes and the helper kills what runs in the slot and exits.
//
// On Linux the helper lives in new mount, PID, UTS, IPC and network
// namespaces: its mounts are private to it and vanish with it, each
// command is PID 1 of a PID namespace of its own (killing it kills its
// tree), and commands see only loopback unless Cmd.Network is set (then
// they join the host's network namespace). On FreeBSD and DragonFly the
// helper mounts nullfs/tmpfs/devfs/procfs in the host mount table, is the
// procctl reaper of the slot's processes, and unmounts everything, deepest
// first, when it exits.

const (
	helperArg0 = "dsynth-slot-helper"
	// helperEnv marks the helper; its value is the number of extra
	// descriptors passed after the socket (fd 3).
	helperEnv = "DSYNTH_SLOT_HELPER"
	// pidFile, in the slot directory on the host (hidden from the slot by
	// its root tmpfs), names the helper process for Cleanup.
	pidFile = "helper.pid"
)

// setupTimeout bounds the wait for a helper to build its slot.
const setupTimeout = 30 * time.Second

var errNoHook = errors.New("does main, or TestMain, call isolate.MaybeRunHelper first?")

// ErrSlotExists is returned by Prepare when the slot directory already
// exists: a leftover of a crashed run (see Cleanup) or a slot in use.
var ErrSlotExists = errors.New("slot directory exists (leftover of a crashed run? run dsynth cleanup)")

// message is one packet between dsynth and a slot helper.
type message struct {
	Op string `json:"op"`
	// setup
	// The helper computes the entries itself (Entries reads SystemDir's
	// /etc): the message stays small whatever the layout holds.
	Layout   *Layout `json:"layout,omitempty"`
	Hostname string  `json:"hostname,omitempty"`
	// run
	Argv      []string `json:"argv,omitempty"`
	Env       []string `json:"env,omitempty"`
	Dir       string   `json:"dir,omitempty"`
	Network   bool     `json:"network,omitempty"`
	Nice      int      `json:"nice,omitempty"`
	HasStdin  bool     `json:"has_stdin,omitempty"`
	HasStdout bool     `json:"has_stdout,omitempty"`
	HasStderr bool     `json:"has_stderr,omitempty"`
	// replies
	Status int    `json:"status,omitempty"`
	Killed bool   `json:"killed,omitempty"`
	Error  string `json:"error,omitempty"`
}

const maxMessage = 4 << 20

func sendMsg(c *net.UnixConn, m message, files ...*os.File) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if len(b) > maxMessage {
		return fmt.Errorf("slot message too large (%d bytes)", len(b))
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	_, _, err = c.WriteMsgUnix(b, oob, nil)
	return err
}

func recvMsg(c *net.UnixConn, buf []byte) (message, []*os.File, error) {
	oob := make([]byte, unix.CmsgSpace(4*8))
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return message{}, nil, err
	}
	if n == 0 && oobn == 0 {
		return message{}, nil, io.EOF
	}
	var files []*os.File
	if oobn > 0 {
		scms, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return message{}, nil, err
		}
		for _, scm := range scms {
			fds, err := unix.ParseUnixRights(&scm)
			if err != nil {
				return message{}, nil, err
			}
			for _, fd := range fds {
				files = append(files, os.NewFile(uintptr(fd), "passed"))
			}
		}
	}
	if flags&unix.MSG_TRUNC != 0 {
		closeAll(files)
		return message{}, nil, fmt.Errorf("slot message truncated")
	}
	var m message
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		closeAll(files)
		return message{}, nil, fmt.Errorf("slot message: %w", err)
	}
	return m, files, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// unixSlot is the dsynth side of a slot helper.
type unixSlot struct {
	root   string
	helper *exec.Cmd
	conn   *net.UnixConn
	msgs   chan message
	stderr *tailBuffer
	exited chan struct{} // closed when the helper was reaped

	mu       sync.Mutex // serialises Run
	tearOnce sync.Once
	tearErr  error
}

// Prepare creates slot n under l.BuildBase/SL<NN> following l and returns
// it ready to run commands. The slot's mounts live in the slot helper's
// private mount namespace on Linux (none of them appears in the host's
// mount table); on the BSDs they are in the host mount table below the
// slot directory.
func Prepare(ctx context.Context, l Layout, n int) (Slot, error) {
	if n < 0 {
		return nil, fmt.Errorf("prepare: negative slot number %d", n)
	}
	if os.Getenv(helperEnv) != "" {
		// The binary was re-executed as a helper but went on as itself:
		// refuse, instead of recursing.
		return nil, errNoHook
	}
	if err := l.validate(); err != nil {
		return nil, err
	}
	root := SlotDir(filepath.Clean(l.BuildBase), n)
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", root, err)
	}
	if err := os.Mkdir(root, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("prepare %s: %w", root, ErrSlotExists)
		}
		return nil, fmt.Errorf("prepare %s: %w", root, err)
	}
	s, err := startHelper(ctx, root, l, hostnameFor(l, n))
	if err != nil {
		// The helper undid what it could; force what remains.
		if _, uerr := unmountAll(root, true); uerr != nil {
			return nil, fmt.Errorf("prepare %s: %w", root, errors.Join(err, uerr))
		}
		if rerr := removeTree(root); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, fmt.Errorf("prepare %s: %w", root, err)
	}
	return s, nil
}

func hostnameFor(l Layout, n int) string {
	if l.Hostname != "" {
		return l.Hostname
	}
	return SlotName(n)
}

func startHelper(ctx context.Context, root string, l Layout, hostname string) (*unixSlot, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	// Room for large environments (the default is about 200 KB on Linux
	// and 8 KB on FreeBSD): as much as the system allows, up to
	// maxMessage.
	for size := maxMessage; size >= 64<<10; size /= 2 {
		if unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, size) == nil {
			break
		}
	}
	parentF := os.NewFile(uintptr(fds[0]), "slot-parent")
	childF := os.NewFile(uintptr(fds[1]), "slot-child")
	extra, err := helperFiles()
	if err != nil {
		closeAll([]*os.File{parentF, childF})
		return nil, err
	}
	exe, err := helperExe()
	if err != nil {
		closeAll(append([]*os.File{parentF, childF}, extra...))
		return nil, err
	}
	fc, err := net.FileConn(parentF)
	parentF.Close()
	if err != nil {
		closeAll(append([]*os.File{childF}, extra...))
		return nil, fmt.Errorf("slot socket: %w", err)
	}
	conn := fc.(*net.UnixConn)

	s := &unixSlot{root: root, conn: conn, msgs: make(chan message, 1), stderr: &tailBuffer{max: 8 << 10}, exited: make(chan struct{})}
	s.helper = &exec.Cmd{
		Path:        exe,
		Args:        []string{helperArg0, root},
		Env:         []string{helperEnv + "=" + strconv.Itoa(len(extra))},
		ExtraFiles:  append([]*os.File{childF}, extra...),
		Stderr:      s.stderr,
		SysProcAttr: helperSysProcAttr(),
	}
	err = s.helper.Start()
	// Only the helper may hold its end: its exit must read as EOF here.
	childF.Close()
	closeAll(extra)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("start slot helper: %w", err)
	}
	go func() {
		s.helper.Wait()
		close(s.exited)
	}()
	go s.readLoop()
	fail := func(err error) (*unixSlot, error) {
		s.stop()
		if t := strings.TrimSpace(s.stderr.String()); t != "" {
			err = fmt.Errorf("%w (helper: %s)", err, t)
		}
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, pidFile), []byte(strconv.Itoa(s.helper.Process.Pid)+"\n"), 0o644); err != nil {
		return fail(err)
	}
	if err := sendMsg(conn, message{Op: "setup", Layout: &l, Hostname: hostname}); err != nil {
		return fail(fmt.Errorf("slot helper: %w", err))
	}
	select {
	case m, ok := <-s.msgs:
		if !ok {
			return fail(fmt.Errorf("slot helper exited during setup (%w)", errNoHook))
		}
		if m.Op != "ready" {
			return fail(fmt.Errorf("slot setup: %s", m.Error))
		}
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-time.After(setupTimeout):
		return fail(fmt.Errorf("slot helper not ready after %v (%w)", setupTimeout, errNoHook))
	}
	return s, nil
}

func (s *unixSlot) readLoop() {
	defer close(s.msgs)
	buf := make([]byte, 64<<10)
	for {
		m, files, err := recvMsg(s.conn, buf)
		closeAll(files)
		if err != nil {
			return
		}
		s.msgs <- m
	}
}

// stopGrace is how long a helper may take to end its slot in order.
const stopGrace = 5 * time.Second

// stop ends the helper and waits for it: closing the socket makes it kill
// the slot's processes, unmount (BSD) and exit; SIGKILL after stopGrace.
func (s *unixSlot) stop() {
	s.conn.Close()
	select {
	case <-s.exited:
	case <-time.After(stopGrace):
		s.helper.Process.Kill()
		<-s.exited
	}
}

func (s *unixSlot) Root() string { return s.root }

// Run runs c in the slot. Runs on one slot are serialised.
func (s *unixSlot) Run(ctx context.Context, c Cmd) (int, error) {
	if len(c.Argv) == 0 {
		return -1, errors.New("run: empty argv")
	}
	if c.Dir != "" && !filepath.IsAbs(c.Dir) {
		// A relative directory would be resolved against the helper's
		// working directory, outside the chroot.
		return -1, fmt.Errorf("run %s: working directory %q is not absolute", c.Argv[0], c.Dir)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return -1, fmt.Errorf("run %s: %w", c.Argv[0], err)
	}
	var files, toClose, readers []*os.File
	var wg sync.WaitGroup
	var sinks []*drainWriter
	defer func() { closeAll(toClose) }()
	out := func(w io.Writer) (bool, error) {
		if w == nil {
			return false, nil
		}
		if f, ok := w.(*os.File); ok {
			files = append(files, f)
			return true, nil
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			return false, err
		}
		files = append(files, pw)
		toClose = append(toClose, pw)
		readers = append(readers, pr)
		dw := &drainWriter{w: w}
		sinks = append(sinks, dw)
		wg.Add(1)
		go func() {
			defer wg.Done()
			io.Copy(dw, pr)
		}()
		return true, nil
	}
	m := message{Op: "run", Argv: c.Argv, Env: c.Env, Dir: c.Dir, Network: c.Network, Nice: c.Nice}
	var err error
	// Standard input goes first among the descriptors.
	if c.Stdin != nil {
		m.HasStdin = true
		if f, ok := c.Stdin.(*os.File); ok {
			files = append(files, f)
		} else {
			pr, pw, err := os.Pipe()
			if err != nil {
				return -1, fmt.Errorf("run %s: %w", c.Argv[0], err)
			}
			files = append(files, pr)
			toClose = append(toClose, pr)
			// The copier ends when the reader does or when the command
			// closed its end (EPIPE); it is not waited for: a reader
			// that blocks (a terminal) must not hold Run.
			go func() {
				io.Copy(pw, c.Stdin)
				pw.Close()
			}()
		}
	}
	nin := len(files)
	if m.HasStdout, err = out(c.Stdout); err != nil {
		return -1, fmt.Errorf("run %s: %w", c.Argv[0], err)
	}
	if m.HasStdout && sameWriter(c.Stdout, c.Stderr) {
		// One writer for both: one pipe, so that the writer sees the
		// output in order and is never written from two goroutines.
		m.HasStderr = true
		files = append(files, files[nin])
	} else if m.HasStderr, err = out(c.Stderr); err != nil {
		closeAll(toClose)
		drain(&wg, readers)
		return -1, fmt.Errorf("run %s: %w", c.Argv[0], err)
	}
	err = sendMsg(s.conn, m, files...)
	closeAll(toClose) // the child holds the write ends now
	toClose = nil
	if err != nil {
		drain(&wg, readers)
		return -1, fmt.Errorf("run %s: slot helper: %w", c.Argv[0], err)
	}
	var reply message
	var ok bool
	select {
	case reply, ok = <-s.msgs:
	case <-ctx.Done():
		sendMsg(s.conn, message{Op: "kill"})
		reply, ok = <-s.msgs
	}
	drain(&wg, readers)
	if !ok {
		return -1, fmt.Errorf("run %s: slot helper exited", c.Argv[0])
	}
	for _, dw := range sinks {
		if dw.err != nil {
			return reply.Status, fmt.Errorf("run %s: %w: %w", c.Argv[0], ErrOutput, dw.err)
		}
	}
	if reply.Error != "" {
		return -1, fmt.Errorf("run %s: %s", c.Argv[0], reply.Error)
	}
	if reply.Killed {
		err := ctx.Err()
		if err == nil {
			err = errors.New("killed")
		}
		return reply.Status, fmt.Errorf("run %s: killed: %w", c.Argv[0], err)
	}
	return reply.Status, nil
}

// ErrOutput marks a Run whose command's output could not all be written
// (a full log disk): the command was not blocked, its output was drained
// and dropped from the first failed write on.
var ErrOutput = errors.New("output could not be written")

// drainWriter passes writes to w until one fails, then remembers the error
// and swallows the rest: the command's pipe is always drained, so a
// writer that fails (ENOSPC) can never block the command in write(2).
type drainWriter struct {
	w   io.Writer
	err error // only the copier goroutine writes it; read after drain
}

func (d *drainWriter) Write(p []byte) (int, error) {
	if d.err == nil {
		if _, err := d.w.Write(p); err != nil {
			d.err = err
		}
	}
	return len(p), nil
}

// sameWriter reports whether a and b are the same writer (false when
// their dynamic type is not comparable).
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// drainTimeout bounds how long Run waits for the output pipes to reach
// EOF after the command ended: a process that escaped the kill (possible
// on DragonFly, see bsd_dragonfly.go) must not hang Run.
const drainTimeout = 2 * time.Second

// drain waits for the output copiers, then closes the read ends.
func drain(wg *sync.WaitGroup, readers []*os.File) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(drainTimeout):
		closeAll(readers)
		<-done
		return
	}
	closeAll(readers)
}

// Teardown stops the helper, which kills anything left in the slot (on
// Linux the kernel drops the slot's mount namespace with it; on the BSDs
// the helper unmounts everything deepest first), checks that the mount
// table shows nothing below the slot, unmounting leftovers deepest first,
// and removes the slot directory. It fails, removing nothing, while a
// mount remains below the slot.
func (s *unixSlot) Teardown() error {
	s.tearOnce.Do(func() {
		sendMsg(s.conn, message{Op: "exit"})
		s.stop()
		// A helper killed after stopGrace left its jails (FreeBSD).
		removeSlotJails(s.root)
		if _, err := unmountAll(s.root, false); err != nil {
			s.tearErr = fmt.Errorf("teardown %s: %w", s.root, err)
			return
		}
		if err := removeTree(s.root); err != nil {
			s.tearErr = fmt.Errorf("teardown: %w", err)
		}
	})
	return s.tearErr
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
