package isolatetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/isolate"
)

// PrepareFunc and CleanupFunc are an implementation's Prepare and Cleanup.
type (
	PrepareFunc func(ctx context.Context, l isolate.Layout, n int) (isolate.Slot, error)
	CleanupFunc func(buildBase string) ([]string, error)
)

// Options describe an implementation's isolation level.
type Options struct {
	Prepare PrepareFunc
	Cleanup CleanupFunc
	// SharedHost is set for implementations without namespaces (the BSD
	// chroot slots): the slot shares the host's network, host name and
	// process table, so those checks are skipped.
	SharedHost bool
	// OwnProcesses is set for shared-host implementations whose slots
	// still have a process table of their own: the process and signal
	// checks run for them.
	OwnProcesses bool
	// Jail is set for shared-host implementations whose commands run in
	// BSD jails: besides the process and signal checks (as OwnProcesses),
	// the slot's host name (hostname(1)) and, for a command without
	// Cmd.Network, the absence of any address (nc(1) cannot reach a host
	// listener on 127.0.0.1) are checked, with portable tools instead of
	// Linux's /proc.
	Jail bool
}

// ownProcesses reports whether o's slots have a process table of their
// own.
func (o Options) ownProcesses() bool { return !o.SharedHost || o.OwnProcesses || o.Jail }

// Run runs the suite against a namespaced implementation (Linux).
func Run(t *testing.T, prepare PrepareFunc, cleanup CleanupFunc) {
	RunWith(t, Options{Prepare: prepare, Cleanup: cleanup})
}

// path inside slots for every command.
const slotPath = "PATH=/usr/bin:/bin:/usr/sbin:/sbin"

// fixture is a build base with ports tree, distfiles, packages, options
// and an extra mount, plus a host file outside the layout.
type fixture struct {
	base   string // temp dir holding everything
	layout isolate.Layout
	secret string // host file no slot may see
	keep   map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{base: base, secret: filepath.Join(base, "secret-host-file"), keep: map[string]string{}}
	build := filepath.Join(base, "build")
	// packages and distfiles inside the build base: bind sources that
	// Cleanup must never touch.
	l := isolate.Layout{
		BuildBase:      build,
		SystemDir:      "/",
		PortsDir:       filepath.Join(base, "ports"),
		DistfilesDir:   filepath.Join(build, "distfiles"),
		PackagesDir:    filepath.Join(build, "packages"),
		OutputDir:      filepath.Join(build, "output"),
		OptionsDir:     filepath.Join(base, "options"),
		TmpfsWork:      256 << 20,
		TmpfsLocalbase: 64 << 20,
		Hostname:       "isolatetest",
		Mounts:         []isolate.Mount{{Source: filepath.Join(base, "extra"), Target: "/extra", ReadOnly: true}},
	}
	files := map[string]string{
		filepath.Join(l.PortsDir, "cat/port/Makefile"):   "PORTNAME=port\n",
		filepath.Join(l.DistfilesDir, "port-1.0.tar.gz"): "distfile",
		filepath.Join(l.PackagesDir, "All/port-1.0.pkg"): "package",
		filepath.Join(l.OutputDir, ".keep"):              "",
		filepath.Join(l.OptionsDir, "cat_port/options"):  "OPTIONS\n",
		filepath.Join(base, "extra/extra-file"):          "extra\n",
		filepath.Join(build, "notes.txt"):                "not a slot\n",
		filepath.Join(build, "SLx/keep"):                 "not a slot name\n",
		f.secret:                                         "secret\n",
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		if p != f.secret {
			f.keep[p] = c
		}
	}
	f.layout = l
	return f
}

// checkKept fails unless every fixture file outside the slots is intact.
func (f *fixture) checkKept(t *testing.T) {
	t.Helper()
	for p, c := range f.keep {
		b, err := os.ReadFile(p)
		if err != nil || string(b) != c {
			t.Errorf("%s was touched: %q, %v", p, b, err)
		}
	}
}

func prepare(t *testing.T, o Options, l isolate.Layout, n int) isolate.Slot {
	t.Helper()
	s, err := o.Prepare(context.Background(), l, n)
	if err != nil {
		t.Fatalf("Prepare slot %d: %v", n, err)
	}
	t.Cleanup(func() { s.Teardown() })
	return s
}

// sh runs script with /bin/sh in s and returns stdout, stderr and status.
func sh(t *testing.T, s isolate.Slot, script string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	st, err := s.Run(context.Background(), isolate.Cmd{
		Argv: []string{"/bin/sh", "-c", script}, Env: []string{slotPath}, Stdout: &out, Stderr: &errb,
	})
	if err != nil {
		t.Fatalf("run %q: %v (stderr %q)", script, err, errb.String())
	}
	return out.String(), errb.String(), st
}

// mustSh runs script and fails unless it exits 0.
func mustSh(t *testing.T, s isolate.Slot, script string) string {
	t.Helper()
	out, errs, st := sh(t, s, script)
	if st != 0 {
		t.Fatalf("%q: status %d, stderr %q", script, st, errs)
	}
	return out
}

// RunWith runs the suite with o.
func RunWith(t *testing.T, o Options) {
	if os.Geteuid() != 0 {
		t.Skip("isolation conformance needs root")
	}
	t.Run("Layout", func(t *testing.T) { testLayout(t, o) })
	t.Run("HostInvisible", func(t *testing.T) { testHostInvisible(t, o) })
	t.Run("ReadOnly", func(t *testing.T) { testReadOnly(t, o) })
	t.Run("FreshTmpfs", func(t *testing.T) { testFreshTmpfs(t, o) })
	t.Run("Processes", func(t *testing.T) { testProcesses(t, o) })
	t.Run("Network", func(t *testing.T) { testNetwork(t, o) })
	t.Run("KillTree", func(t *testing.T) { testKillTree(t, o) })
	t.Run("ExitStatus", func(t *testing.T) { testExitStatus(t, o) })
	t.Run("Output", func(t *testing.T) { testOutput(t, o) })
	t.Run("EnvDirStdin", func(t *testing.T) { testEnvDirStdin(t, o) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, o) })
	t.Run("Teardown", func(t *testing.T) { testTeardown(t, o) })
	t.Run("Leftover", func(t *testing.T) { testLeftover(t, o) })
	t.Run("Crash", func(t *testing.T) { testCrash(t, o) })
	t.Run("Escape", func(t *testing.T) { runEscape(t, o) })
}

func testLayout(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	if want := isolate.SlotDir(f.layout.BuildBase, 1); s.Root() != want {
		t.Errorf("Root() = %q, want %q", s.Root(), want)
	}
	checks := []struct{ script, want string }{
		{"cat /xports/cat/port/Makefile", "PORTNAME=port\n"},
		{"cat /distfiles/port-1.0.tar.gz", "distfile"},
		{"cat /packages/All/port-1.0.pkg", "package"},
		{"cat /options/cat_port/options", "OPTIONS\n"},
		{"cat /extra/extra-file", "extra\n"},
		{"ls -ld /tmp /var/tmp | cut -c1-10", "drwxrwxrwt\ndrwxrwxrwt\n"},
		{"test -c /dev/null && test -c /dev/zero && test -c /dev/urandom && echo ok", "ok\n"},
		{"head -c 4 /dev/zero | od -An -tx1 | tr -d ' \\n'", "00000000"},
		{"grep -c '^root:' /etc/passwd", "1\n"},
		{"test -x /bin/sh && test -d /usr/include && echo ok", "ok\n"},
		{"echo pkg > /.npkg/new.pkg && echo dist > /distfiles/new.tar && echo ok", "ok\n"},
	}
	if !o.SharedHost {
		checks = append(checks, struct{ script, want string }{"cat /proc/sys/kernel/hostname", "isolatetest\n"})
	}
	if o.Jail {
		checks = append(checks, struct{ script, want string }{"hostname", "isolatetest\n"})
	}
	for _, c := range checks {
		if got := mustSh(t, s, c.script); got != c.want {
			t.Errorf("%q = %q, want %q", c.script, got, c.want)
		}
	}
	for p, want := range map[string]string{
		filepath.Join(f.layout.OutputDir, "new.pkg"):    "pkg\n",
		filepath.Join(f.layout.DistfilesDir, "new.tar"): "dist\n",
	} {
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Errorf("host %s = %q %v, want %q written from the slot", p, b, err, want)
		}
	}
}

func testHostInvisible(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	paths := []string{f.secret, f.base, f.layout.BuildBase, "/etc/shadow", "/etc/gshadow", "/etc/master.passwd",
		"/etc/spwd.db", "/etc/ssh", "/home", "/root/.ssh"}
	if wd, err := os.Getwd(); err == nil {
		paths = append(paths, wd)
	}
	for _, dir := range []string{"/usr/src", "/usr/games", "/usr/local/bin", "/mnt", "/srv", "/opt", "/work"} {
		if _, err := os.Stat(dir); err == nil {
			paths = append(paths, dir)
		}
	}
	for _, p := range paths {
		if p == "" || p == "/" {
			continue
		}
		if out, _, st := sh(t, s, "test -e '"+p+"' || test -L '"+p+"'"); st == 0 {
			t.Errorf("host path %s is visible in the slot %q", p, out)
		}
	}
	if out := mustSh(t, s, "grep -v '^[^:]*:[x*!]*:' /etc/passwd || true"); out != "" {
		t.Errorf("/etc/passwd has password hashes: %q", out)
	}
}

func testReadOnly(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	for _, dir := range []string{"/xports", "/xports/cat/port", "/options", "/packages", "/packages/All", "/extra", "/usr/bin", "/usr/lib", "/usr/include", "/usr/share", "/proc"} {
		if out, _, st := sh(t, s, "touch "+dir+"/probe 2>&1"); st == 0 {
			t.Errorf("write into read-only %s succeeded %q", dir, out)
		}
	}
	if !o.SharedHost {
		// Root in the slot cannot undo the layout: no remounting, no
		// new mounts, no unmounting, no chroot, no device nodes.
		for _, script := range []string{
			"mount -o remount,rw /xports", "mount -o remount,bind,rw /xports", "mount -t tmpfs none /construction",
			"umount /xports", "umount -l /usr/bin", "chroot / /bin/true", "mknod /tmp/sda b 8 0",
			"mount --bind /tmp /xports",
		} {
			if out, _, st := sh(t, s, script+" 2>&1"); st == 0 {
				t.Errorf("%q succeeded in the slot: %q", script, out)
			}
		}
		if out, _, st := sh(t, s, "touch /xports/probe 2>&1"); st == 0 {
			t.Errorf("/xports writable after the attempts: %q", out)
		}
	}
	for _, host := range []string{f.layout.PortsDir, f.layout.OptionsDir, filepath.Join(f.base, "extra")} {
		if _, err := os.Stat(filepath.Join(host, "probe")); err == nil {
			t.Errorf("a probe file appeared in %s", host)
		}
	}
	for _, dir := range []string{"/", "/etc", "/tmp", "/var/tmp", "/construction", "/usr/local", "/.npkg", "/distfiles", "/root"} {
		mustSh(t, s, "touch "+strings.TrimSuffix(dir, "/")+"/probe && rm "+strings.TrimSuffix(dir, "/")+"/probe")
	}
}

func testFreshTmpfs(t *testing.T, o Options) {
	f := newFixture(t)
	empty := "ls -A /usr/local /construction /tmp /var/tmp"
	want := "/construction:\n\n/tmp:\n\n/usr/local:\n\n/var/tmp:\n"
	for round := range 2 {
		s, err := o.Prepare(context.Background(), f.layout, 4)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustSh(t, s, empty); got != want {
			t.Errorf("round %d: work areas not empty: %q", round, got)
		}
		mustSh(t, s, "mkdir -p /usr/local/bin /construction/w && echo x > /usr/local/bin/tool && echo y > /construction/w/f && echo z > /tmp/t")
		if err := s.Teardown(); err != nil {
			t.Fatalf("teardown: %v", err)
		}
		if _, err := os.Lstat(s.Root()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("slot root %s still there after teardown: %v", s.Root(), err)
		}
	}
}

// hostProc returns the command lines of the host's processes containing
// marker (nil when the host has no /proc to ask).
func hostProc(marker string) []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), marker) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// slotProcScript lists the command lines of the processes the slot sees.
const slotProcScript = `for p in /proc/[0-9]*; do [ -r $p/cmdline ] && tr '\0' ' ' < $p/cmdline && echo; done; true`

func testProcesses(t *testing.T, o Options) {
	if !o.ownProcesses() {
		t.Skip("implementation shares the host process table")
	}
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	host := exec.Command("sleep", "997.25")
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { host.Process.Kill(); host.Wait() }()
	out := mustSh(t, s, slotProcScript)
	if strings.Contains(out, "997.25") {
		t.Errorf("slot sees a host process:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) > 5 {
		t.Errorf("slot sees %d processes, want only its own:\n%s", len(lines), out)
	}
	if !strings.Contains(out, "/proc/[0-9]*") && !strings.Contains(out, "sh -c") {
		t.Errorf("slot does not see its own shell:\n%s", out)
	}
}

func testNetwork(t *testing.T, o Options) {
	if o.Jail {
		testJailNetwork(t, o)
		return
	}
	if o.SharedHost {
		t.Skip("implementation shares the host network")
	}
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	ifaces := `sed -n 's/^ *\([^:]*\):.*/\1/p' /proc/net/dev | sort | tr '\n' ' '`
	if got := mustSh(t, s, ifaces); got != "lo " {
		t.Errorf("network off: interfaces %q, want only lo", got)
	}
	if got := mustSh(t, s, "grep -c 127.0.0.1 /proc/net/fib_trie || true"); strings.TrimSpace(got) == "0" {
		t.Errorf("network off: loopback is down (no 127.0.0.1 route)")
	}
	hostDev, err := os.ReadFile("/proc/net/dev")
	if err != nil || strings.Count(string(hostDev), ":") < 2 {
		return // the host has only lo itself
	}
	var out bytes.Buffer
	st, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"sh", "-c", ifaces}, Env: []string{slotPath}, Stdout: &out, Network: true})
	if err != nil || st != 0 {
		t.Fatalf("network on: %d %v", st, err)
	}
	if out.String() == "lo " {
		t.Errorf("network on: only lo visible, want the host's interfaces")
	}
	// And off again after a networked command.
	if got := mustSh(t, s, ifaces); got != "lo " {
		t.Errorf("network off after on: %q", got)
	}
}

// testJailNetwork: a command without the network cannot connect to a
// listener of the host on 127.0.0.1 (a jail without addresses), and one
// with the network can (which shows the probe works).
func testJailNetwork(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	if out, _, st := sh(t, s, "command -v nc"); st != 0 {
		t.Skipf("no nc(1) in the slot's system (%q)", out)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("host has no IPv4 loopback: %v", err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
			accepted <- struct{}{}
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	probe := "nc -z -w 3 127.0.0.1 " + port + " 2>&1; echo status $?"
	seen := func() bool {
		select {
		case <-accepted:
			return true
		case <-time.After(500 * time.Millisecond):
			return false
		}
	}
	out := mustSh(t, s, probe)
	if seen() || strings.HasSuffix(out, "status 0\n") {
		t.Errorf("network off: the slot reached the host's 127.0.0.1:%s (%q)", port, out)
	}
	var b bytes.Buffer
	st, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"/bin/sh", "-c", probe}, Env: []string{slotPath}, Stdout: &b, Network: true})
	if err != nil || st != 0 {
		t.Fatalf("network on: %d %v", st, err)
	}
	if !seen() {
		t.Errorf("network on: no connection from the slot reached 127.0.0.1:%s (%q)", port, b.String())
	}
	// And off again after a networked command.
	if out := mustSh(t, s, probe); seen() || strings.HasSuffix(out, "status 0\n") {
		t.Errorf("network off after on: the slot reached 127.0.0.1:%s (%q)", port, out)
	}
}

func testKillTree(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	scripts := map[string]string{
		"timeout":  "(sleep 996.25 &) ; sleep 995.25 & wait",
		"cancel":   "echo started; (sleep 994.25 &) ; sleep 993.25",
		"finished": "(sleep 992.25 &) ; echo done",
	}
	if !o.SharedHost {
		scripts["setsid"] = "echo started; setsid sleep 991.25 & sleep 990.25"
	}
	for _, name := range []string{"timeout", "cancel", "finished", "setsid"} {
		script, ok := scripts[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var ctx context.Context
			var cancel context.CancelFunc
			var out io.Writer = io.Discard
			switch name {
			case "timeout":
				ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
			default:
				ctx, cancel = context.WithCancel(context.Background())
				out = &cancelOnWrite{cancel: cancel}
			}
			defer cancel()
			if name == "finished" {
				out = io.Discard
			}
			start := time.Now()
			_, err := s.Run(ctx, isolate.Cmd{Argv: []string{"sh", "-c", script}, Env: []string{slotPath}, Stdout: out})
			elapsed := time.Since(start)
			switch name {
			case "timeout":
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want DeadlineExceeded", err)
				}
			case "finished":
				if err != nil {
					t.Errorf("err = %v", err)
				}
			default:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want Canceled", err)
				}
			}
			if elapsed > 5*time.Second {
				t.Errorf("Run returned after %v", elapsed)
			}
			// Nothing of the tree survives, in the slot or on the host.
			if got := mustSh(t, s, slotProcScript); strings.Contains(got, "sleep 99") {
				t.Errorf("slot still runs:\n%s", got)
			}
			deadline := time.Now().Add(3 * time.Second)
			for {
				left := hostProc(".25")
				left = slices.DeleteFunc(left, func(l string) bool { return !strings.Contains(l, "sleep 99") })
				if len(left) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("processes survive on the host: %v", left)
					for _, l := range left {
						if pid, err := strconv.Atoi(strings.SplitN(l, ":", 2)[0]); err == nil {
							syscall.Kill(pid, syscall.SIGKILL)
						}
					}
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	// A cancelled context before Run starts nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Run(ctx, isolate.Cmd{Argv: []string{"sh", "-c", "echo x > /tmp/ran"}, Env: []string{slotPath}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with cancelled context: %v", err)
	}
	if out, _, _ := sh(t, s, "cat /tmp/ran 2>/dev/null"); out != "" {
		t.Errorf("Run with a cancelled context ran the command")
	}
}

// cancelOnWrite cancels on the first write.
type cancelOnWrite struct {
	cancel context.CancelFunc
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.cancel()
	return len(p), nil
}

func testExitStatus(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	for _, c := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0}, {"exit 1", 1}, {"exit 2", 2}, {"exit 42", 42}, {"exit 255", 255},
		{"false", 1}, {"true", 0},
		{`sh -c 'kill -9 $$'; exit $?`, 137},
		{"/no/such/program", 127},
	} {
		if _, _, st := sh(t, s, c.script); st != c.want {
			t.Errorf("%q: status %d, want %d", c.script, st, c.want)
		}
	}
	for _, argv := range [][]string{{"no-such-program"}, {"/no/such/program"}, {"/etc/passwd"}} {
		if st, err := s.Run(context.Background(), isolate.Cmd{Argv: argv, Env: []string{slotPath}}); err == nil {
			t.Errorf("%v: status %d and no error, want an error", argv, st)
		}
	}
	if _, err := s.Run(context.Background(), isolate.Cmd{}); err == nil {
		t.Errorf("empty argv: no error")
	}
	// The slot still works after failures.
	if got := mustSh(t, s, "echo alive"); got != "alive\n" {
		t.Errorf("after failures: %q", got)
	}
}

// timedWriter records when the first byte arrived.
type timedWriter struct {
	mu    sync.Mutex
	first time.Time
	buf   bytes.Buffer
}

func (w *timedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.first.IsZero() {
		w.first = time.Now()
	}
	return w.buf.Write(p)
}

func testOutput(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	out, errs, st := sh(t, s, `printf 'out1\nout2'; printf 'err1\n' >&2; printf '\0bin\377'`)
	if st != 0 || out != "out1\nout2\x00bin\xff" || errs != "err1\n" {
		t.Errorf("stdout %q stderr %q status %d", out, errs, st)
	}
	big := mustSh(t, s, "head -c 3000000 /dev/zero | tr '\\0' a")
	if len(big) != 3000000 || strings.Trim(big, "a") != "" {
		t.Errorf("large output: %d bytes", len(big))
	}
	// Streaming: the first line arrives while the command still runs.
	w := &timedWriter{}
	start := time.Now()
	if _, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"sh", "-c", "echo first; sleep 1; echo second"}, Env: []string{slotPath}, Stdout: w}); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	if w.first.IsZero() || end.Sub(w.first) < 700*time.Millisecond {
		t.Errorf("output not streamed: first byte %v after start, run took %v", w.first.Sub(start), end.Sub(start))
	}
	if w.buf.String() != "first\nsecond\n" {
		t.Errorf("streamed output %q", w.buf.String())
	}
	// One writer for stdout and stderr gets both, in order.
	var both bytes.Buffer
	if _, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"sh", "-c", "echo a; echo b >&2; echo c; echo d >&2"}, Env: []string{slotPath}, Stdout: &both, Stderr: &both}); err != nil {
		t.Fatal(err)
	}
	if both.String() != "a\nb\nc\nd\n" {
		t.Errorf("shared stdout/stderr writer got %q", both.String())
	}
	// An *os.File writer receives the output directly; nil discards.
	tf, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	if _, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"sh", "-c", "echo to-file; echo to-nowhere >&2"}, Env: []string{slotPath}, Stdout: tf}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(tf.Name()); string(b) != "to-file\n" {
		t.Errorf("file output %q", b)
	}
	// A writer that fails (a full log disk) never blocks the command: its
	// output is drained, the command runs to its end, and Run says the
	// output was lost.
	full := &failingWriter{room: 64 << 10}
	st, err = s.Run(context.Background(), isolate.Cmd{Argv: []string{"sh", "-c", "head -c 8000000 /dev/zero; echo finished > /tmp/finished"}, Env: []string{slotPath}, Stdout: full, Stderr: full})
	if !errors.Is(err, isolate.ErrOutput) || !errors.Is(err, syscall.ENOSPC) || st != 0 {
		t.Errorf("output to a full writer: status %d, err %v; want status 0 and ErrOutput (ENOSPC)", st, err)
	}
	if got := mustSh(t, s, "cat /tmp/finished"); got != "finished\n" {
		t.Errorf("the command did not run to its end: %q", got)
	}
}

// failingWriter accepts room bytes, then fails every write with ENOSPC.
type failingWriter struct {
	mu   sync.Mutex
	room int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(p) > w.room {
		n := w.room
		w.room = 0
		return n, &os.PathError{Op: "write", Path: "log", Err: syscall.ENOSPC}
	}
	w.room -= len(p)
	return len(p), nil
}

func testEnvDirStdin(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	env := []string{slotPath, "A=1", "B=with space", "PORTSDIR=/xports"}
	var out bytes.Buffer
	st, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"env"}, Env: env, Stdout: &out})
	if err != nil || st != 0 {
		t.Fatal(st, err)
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	slices.Sort(got)
	want := slices.Clone(env)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("environment %q, want exactly %q", got, want)
	}
	out.Reset()
	if _, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"pwd"}, Env: env, Dir: "/xports/cat/port", Stdout: &out}); err != nil || out.String() != "/xports/cat/port\n" {
		t.Errorf("Dir: %q %v", out.String(), err)
	}
	out.Reset()
	if _, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"pwd"}, Env: env, Stdout: &out}); err != nil || out.String() != "/\n" {
		t.Errorf("default Dir: %q %v", out.String(), err)
	}
	if _, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"pwd"}, Env: env, Dir: "xports", Stdout: &out}); err == nil {
		t.Errorf("relative Dir: no error")
	}
	// A large environment (10 x 30 KB) arrives whole.
	bigEnv := []string{slotPath}
	for i := range 10 {
		bigEnv = append(bigEnv, fmt.Sprintf("BIG%d=%s", i, strings.Repeat("x", 30000)))
	}
	out.Reset()
	if _, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"env"}, Env: bigEnv, Stdout: &out}); err != nil {
		t.Errorf("large environment: %v", err)
	} else if got, want := out.Len(), len(strings.Join(bigEnv, "\n"))+1; got != want {
		t.Errorf("large environment: %d bytes in the slot, want %d", got, want)
	}
	// stdin is /dev/null: cat ends at once with nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out.Reset()
	if st, err := s.Run(ctx, isolate.Cmd{Argv: []string{"cat"}, Env: env, Stdout: &out}); err != nil || st != 0 || out.Len() != 0 {
		t.Errorf("stdin: %d %v %q", st, err, out.String())
	}
	// Cmd.Stdin: a reader is copied through a pipe, a file is given as
	// it is; a shell reads its commands from either.
	out.Reset()
	if st, err := s.Run(ctx, isolate.Cmd{Argv: []string{"sh"}, Env: env, Stdin: strings.NewReader("echo from-reader; exit 4\n"), Stdout: &out}); err != nil || st != 4 || out.String() != "from-reader\n" {
		t.Errorf("Stdin reader: %d %v %q", st, err, out.String())
	}
	in, err := os.CreateTemp(t.TempDir(), "in")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := in.WriteString("pwd\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if st, err := s.Run(ctx, isolate.Cmd{Argv: []string{"sh"}, Env: env, Dir: "/xports", Stdin: in, Stdout: &out}); err != nil || st != 0 || out.String() != "/xports\n" {
		t.Errorf("Stdin file: %d %v %q", st, err, out.String())
	}
	if !o.SharedHost {
		out.Reset()
		if _, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"sh", "-c", "cut -d' ' -f19 /proc/self/stat"}, Env: env, Nice: 7, Stdout: &out}); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(out.String()); got != "7" {
			t.Errorf("Nice 7: niceness %q", got)
		}
	}
}

func testConcurrent(t *testing.T, o Options) {
	f := newFixture(t)
	var wg sync.WaitGroup
	slots := make([]isolate.Slot, 2)
	errs := make([]error, 2)
	for i := range slots {
		wg.Go(func() { slots[i], errs[i] = o.Prepare(context.Background(), f.layout, 2+i) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("prepare %d: %v", i, err)
		}
		t.Cleanup(func() { slots[i].Teardown() })
	}
	outs := make([]string, 2)
	for i, s := range slots {
		wg.Go(func() {
			var b bytes.Buffer
			_, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"sh", "-c", fmt.Sprintf(
				"echo %d > /tmp/who; echo %d > /usr/local/who; echo %d > /construction/who; sleep 0.3; cat /tmp/who /usr/local/who /construction/who; "+
					"ls /tmp /usr/local /construction | sort -u | tr '\\n' ' '; "+slotProcScript, i, i, i)}, Env: []string{slotPath}, Stdout: &b})
			if err != nil {
				errs[i] = err
			}
			outs[i] = b.String()
		})
	}
	wg.Wait()
	for i := range slots {
		if errs[i] != nil {
			t.Fatalf("slot %d: %v", i, errs[i])
		}
		want := fmt.Sprintf("%d\n%d\n%d\n", i, i, i)
		if !strings.HasPrefix(outs[i], want) {
			t.Errorf("slot %d sees %q, want its own files %q", i, outs[i], want)
		}
		if !o.SharedHost && strings.Count(outs[i], "sleep 0.3") != 1 {
			t.Errorf("slot %d process list shows another slot's:\n%s", i, outs[i])
		}
	}
}

func testTeardown(t *testing.T, o Options) {
	f := newFixture(t)
	s, err := o.Prepare(context.Background(), f.layout, 5)
	if err != nil {
		t.Fatal(err)
	}
	mustSh(t, s, "echo built > /.npkg/built.pkg")
	if err := s.Teardown(); err != nil {
		t.Fatal(err)
	}
	if err := s.Teardown(); err != nil {
		t.Errorf("second Teardown: %v", err)
	}
	if ms, err := isolate.MountsUnder(f.layout.BuildBase); err != nil || len(ms) > 0 {
		t.Errorf("mounts under the build base after teardown: %v %v", ms, err)
	}
	if _, err := os.Lstat(s.Root()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("slot dir remains: %v", err)
	}
	f.checkKept(t)
	if b, err := os.ReadFile(filepath.Join(f.layout.OutputDir, "built.pkg")); err != nil || string(b) != "built\n" {
		t.Errorf("package written in the slot lost: %q %v", b, err)
	}
	if _, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"true"}}); err == nil {
		t.Errorf("Run after Teardown: no error")
	}
}

func testLeftover(t *testing.T, o Options) {
	f := newFixture(t)
	dir := isolate.SlotDir(f.layout.BuildBase, 9)
	if err := os.MkdirAll(filepath.Join(dir, "usr/local/junk"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Prepare(context.Background(), f.layout, 9); err == nil {
		t.Fatalf("Prepare over a leftover slot directory succeeded")
	}
	done, err := o.Cleanup(f.layout.BuildBase)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(done, func(s string) bool { return strings.Contains(s, dir) }) {
		t.Errorf("Cleanup did not report %s: %q", dir, done)
	}
	f.checkKept(t)
	s := prepare(t, o, f.layout, 9)
	mustSh(t, s, "true")
	// Nothing left: Cleanup of a clean base reports nothing.
	s.Teardown()
	if done, err := o.Cleanup(f.layout.BuildBase); err != nil || len(done) != 0 {
		t.Errorf("Cleanup of a clean build base: %q %v", done, err)
	}
	if done, err := o.Cleanup(filepath.Join(f.base, "does-not-exist")); err != nil || len(done) != 0 {
		t.Errorf("Cleanup of a missing build base: %q %v", done, err)
	}
}

const crashEnv = "DSYNTH_ISOLATETEST_CRASH"

// crashSpec tells a crash child what to prepare and run.
type crashSpec struct {
	Layout isolate.Layout
	N      int
	Script string
}

// MaybeRunCrashChild is the child side of the crash test: when the
// environment asks for it, it prepares a slot, starts a long command in
// it, prints "ready" and waits to be SIGKILLed. Call it from TestMain
// after isolate.MaybeRunHelper.
func MaybeRunCrashChild(prepare PrepareFunc) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		return
	}
	var c crashSpec
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	s, err := prepare(context.Background(), c.Layout, c.N)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	go s.Run(context.Background(), isolate.Cmd{Argv: []string{"sh", "-c", c.Script}, Env: []string{slotPath}, Stdout: os.Stdout})
	select {}
}

// CrashChild starts the test binary as a crash child preparing slot n of
// l and running script (which must print "ready" when set up); it returns
// once "ready" was printed. The caller SIGKILLs it.
func CrashChild(t *testing.T, l isolate.Layout, n int, script string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(crashSpec{Layout: l, N: n, Script: script})
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+string(spec))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 256)
	nr, _ := io.ReadAtLeast(out, line, 6)
	if !strings.HasPrefix(string(line[:nr]), "ready") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("crash child: %q", line[:nr])
	}
	go io.Copy(io.Discard, out)
	return cmd
}

func testCrash(t *testing.T, o Options) {
	f := newFixture(t)
	child := CrashChild(t, f.layout, 7, "echo crashed > /.npkg/crash.pkg; echo x > /construction/work; sleep 989.25 & echo ready; wait")
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	dir := isolate.SlotDir(f.layout.BuildBase, 7)
	if _, err := os.Lstat(dir); err != nil {
		t.Fatalf("the crashed run left no slot directory to clean: %v", err)
	}
	done, err := o.Cleanup(f.layout.BuildBase)
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if !slices.Contains(done, "removed "+dir) {
		t.Errorf("Cleanup did not remove %s: %q", dir, done)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("slot dir remains after Cleanup: %v", err)
	}
	if ms, err := isolate.MountsUnder(f.layout.BuildBase); err != nil || len(ms) > 0 {
		t.Errorf("mounts under the build base after Cleanup: %v %v", ms, err)
	}
	f.checkKept(t)
	if b, err := os.ReadFile(filepath.Join(f.layout.OutputDir, "crash.pkg")); err != nil || string(b) != "crashed\n" {
		t.Errorf("package written before the crash lost: %q %v", b, err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(hostProc("989.25")) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := hostProc("989.25"); len(left) > 0 {
		t.Errorf("slot processes survive the crash and Cleanup: %v", left)
	}
	// The slot can be prepared again.
	s := prepare(t, o, f.layout, 7)
	if got := mustSh(t, s, "ls -A /construction"); got != "" {
		t.Errorf("/construction after crash and cleanup: %q", got)
	}
}
