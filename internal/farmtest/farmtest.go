// Package farmtest gives tests the real parts of a build farm: a Temporal
// dev server (the `temporal` CLI, started on an address of the test's
// choosing with a SQLite file, so that it can be restarted) and build
// hosts as network namespaces on a bridge (ip netns + veth). Everything
// is removed when the test ends.
package farmtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/internal/testtool"

	"github.com/go-dsynth/dsynth/execute/farm"
)

// TemporalBin finds the temporal CLI: $TEMPORAL, PATH, then
// $(go env GOPATH)/bin; "" when absent.
func TemporalBin() string {
	if b := os.Getenv("TEMPORAL"); b != "" {
		return b
	}
	if b, err := exec.LookPath("temporal"); err == nil {
		return b
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		b := filepath.Join(strings.TrimSpace(string(out)), "bin", "temporal")
		if _, err := os.Stat(b); err == nil {
			return b
		}
	}
	return ""
}

// Need skips t unless it runs as root (slots, network namespaces), and
// fails it without ip or the temporal CLI (make test-deps installs both).
func Need(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, slots)")
	}
	testtool.Need(t, "ip")
	if TemporalBin() == "" {
		t.Fatal("the temporal CLI is not installed: run `make test-deps` (.ci/install-temporal: go install github.com/temporalio/cli/cmd/temporal@v1.5.1)")
	}
}

// Temporal is a running dev server.
type Temporal struct {
	t       testing.TB
	Addr    string
	ip      string
	args    []string
	mu      sync.Mutex
	cmd     *exec.Cmd
	out     *bytes.Buffer
	stopped chan struct{}
}

// freePort returns a free TCP port on ip.
func freePort(t testing.TB, ip string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartTemporal starts a dev server reached at ip, keeping its state in
// dir, and waits until it answers. The server listens on every address:
// with `--ip` set to another than 127.0.0.1, the CLI's dev server (v1.5.1)
// binds its internal services there but dials them on 127.0.0.1, and
// starts no workflow.
func StartTemporal(t testing.TB, ip, dir string) *Temporal {
	t.Helper()
	port := freePort(t, "0.0.0.0")
	tp := &Temporal{t: t, ip: ip, Addr: net.JoinHostPort(ip, strconv.Itoa(port))}
	tp.args = []string{"server", "start-dev", "--ip", "0.0.0.0", "--port", strconv.Itoa(port),
		"--http-port", strconv.Itoa(freePort(t, "0.0.0.0")), "--metrics-port", strconv.Itoa(freePort(t, "0.0.0.0")),
		"--ui-port", strconv.Itoa(freePort(t, "0.0.0.0")), "--headless", "--log-level", "error",
		"--db-filename", filepath.Join(dir, "temporal.db")}
	tp.Start()
	t.Cleanup(tp.Stop)
	return tp
}

// Start starts the server (again) and waits until it answers.
func (tp *Temporal) Start() {
	tp.t.Helper()
	tp.mu.Lock()
	cmd := exec.Command(TemporalBin(), tp.args...)
	tp.out = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = tp.out, tp.out
	if err := cmd.Start(); err != nil {
		tp.mu.Unlock()
		tp.t.Fatalf("start temporal: %v", err)
	}
	tp.cmd, tp.stopped = cmd, make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(cmd, tp.stopped)
	tp.mu.Unlock()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := farm.Dial(ctx, tp.Addr, "default", "farmtest", nil)
		cancel()
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-tp.stopped:
			tp.t.Fatalf("temporal server exited:\n%s", tp.out)
		default:
		}
		if time.Now().After(deadline) {
			tp.t.Fatalf("temporal server did not answer at %s: %v\n%s", tp.Addr, err, tp.out)
		}
		time.Sleep(200 * time.Millisecond) // polling an external server's readiness
	}
}

// Stop stops the server (SIGTERM, then SIGKILL) and waits for it.
func (tp *Temporal) Stop() {
	tp.mu.Lock()
	cmd, done := tp.cmd, tp.stopped
	tp.cmd = nil
	tp.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Net is a bridge on the host with network namespaces on it.
type Net struct {
	HostIP string
	NS     []string // namespace names
	IPs    []string // their addresses
}

func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// NewNet makes a bridge with address .1 and n namespaces (.11, .12, ...)
// on a /24 of its own.
func NewNet(t testing.TB, n int) *Net {
	t.Helper()
	id := os.Getpid() % 100000
	sub := fmt.Sprintf("10.%d.%d", 200+id%50, id%250)
	br := fmt.Sprintf("dsb%d", id)
	nt := &Net{HostIP: sub + ".1"}
	ipCmd(t, "link", "add", br, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", br).Run() })
	ipCmd(t, "addr", "add", nt.HostIP+"/24", "dev", br)
	ipCmd(t, "link", "set", br, "up")
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("dsfarm%d-%d", id, i)
		v0, v1 := fmt.Sprintf("dsv%d%c", id, 'a'+i), fmt.Sprintf("dsw%d%c", id, 'a'+i)
		ip := fmt.Sprintf("%s.%d", sub, 11+i)
		ipCmd(t, "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		ipCmd(t, "link", "add", v0, "type", "veth", "peer", "name", v1)
		t.Cleanup(func() { exec.Command("ip", "link", "del", v0).Run() })
		ipCmd(t, "link", "set", v1, "netns", ns)
		ipCmd(t, "link", "set", v0, "master", br, "up")
		ipCmd(t, "-n", ns, "addr", "add", ip+"/24", "dev", v1)
		ipCmd(t, "-n", ns, "link", "set", v1, "up")
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
		nt.NS, nt.IPs = append(nt.NS, ns), append(nt.IPs, ip)
	}
	return nt
}

// Buffer is a bytes.Buffer safe for a process's output and a reader.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Process is a process the test started (a build host, a controller).
type Process struct {
	Cmd  *exec.Cmd
	Out  *Buffer
	done chan struct{}
	err  error
}

// Start starts cmd with its output in a Buffer; the test's end kills it.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Cmd: cmd, Out: &Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Out, p.Out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.Stop() })
	return p
}

// Wait waits for the process to exit and returns its exit code.
func (p *Process) Wait() int {
	<-p.done
	if p.Cmd.ProcessState == nil {
		return -1
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Done is closed when the process exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop ends the process (SIGTERM, then SIGKILL) and waits for it.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.Cmd.Process.Kill()
		<-p.done
	}
}

// Kill SIGKILLs the process and waits for it.
func (p *Process) Kill() {
	p.Cmd.Process.Kill()
	<-p.done
}
