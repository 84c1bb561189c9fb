package execute

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

// hookOutputMax bounds what a hook's output adds to hooks.log.
const hookOutputMax = 64 << 10

// hooks runs the profile's hook programs on the host, outside the slots,
// as C dsynth does: one at a time, in event order, from a queue of their
// own so that a slow or hanging hook never stalls the build; each is
// killed (its process group) after its timeout. A failing hook is logged
// and recorded, never a failure of the run.
type hooks struct {
	p     *plan.Plan
	warn  func(string)
	queue chan hookJob
	done  chan struct{}

	mu      sync.Mutex
	results []record.HookResult
}

type hookJob struct {
	name, prog string
	env        []string
	origin     string
}

func newHooks(p *plan.Plan, warn func(string)) *hooks {
	h := &hooks{p: p, warn: warn, queue: make(chan hookJob, 1024), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for j := range h.queue {
			h.run(j)
		}
	}()
	return h
}

// event queues the hook of a run or port event, if the profile names one.
func (h *hooks) event(e Event, n *plan.Node) {
	hk := h.p.Settings.Hooks
	if hk == nil {
		return
	}
	var name, prog, result string
	switch e.Kind {
	case EventRunStart:
		name, prog = "run_start", hk.RunStart
	case EventBuilt:
		name, prog, result = "pkg_success", hk.PkgSuccess, "success"
	case EventFailed:
		name, prog, result = "pkg_failure", hk.PkgFailure, "failure"
	case EventIgnored:
		name, prog, result = "pkg_ignored", hk.PkgIgnored, "ignored"
	case EventSkipped:
		name, prog, result = "pkg_skipped", hk.PkgSkipped, "skipped"
	}
	if prog == "" {
		return
	}
	env := h.baseEnv()
	if n != nil {
		env = append(env, "RESULT="+result, "ORIGIN="+n.Origin, "FLAVOR="+n.Flavor, "PKGNAME="+n.PkgName+"-"+n.Version)
		if e.Reason != "" {
			env = append(env, "REASON="+oneLine(e.Reason))
		}
	}
	j := hookJob{name: name, prog: prog, env: env, origin: e.Node}
	select {
	case h.queue <- j:
	default:
		h.record(record.HookResult{Hook: name, Origin: e.Node, Status: "dropped", Error: "hook queue full"})
		h.warn(fmt.Sprintf("hook %s for %s dropped: the queue is full (hooks slower than the build)", name, e.Node))
	}
}

// end waits for the queued hooks, runs run_end with the run's result and
// counts, and returns every hook's result.
func (h *hooks) end(r *record.Run) []record.HookResult {
	close(h.queue)
	<-h.done
	if hk := h.p.Settings.Hooks; hk != nil && hk.RunEnd != "" {
		c := r.Counts
		env := append(h.baseEnv(), "RESULT="+r.Status,
			"STATS_BUILT="+strconv.Itoa(c.Built), "STATS_FAILED="+strconv.Itoa(c.Failed),
			"STATS_IGNORED="+strconv.Itoa(c.Ignored), "STATS_SKIPPED="+strconv.Itoa(c.Skipped),
			"STATS_UPTODATE="+strconv.Itoa(c.UpToDate), "STATS_PLANNED="+strconv.Itoa(c.Planned))
		h.run(hookJob{name: "run_end", prog: hk.RunEnd, env: env})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.results
}

// baseEnv is C dsynth's hook environment.
func (h *hooks) baseEnv() []string {
	prof := &h.p.Settings
	return []string{
		"PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin",
		"PROFILE=" + prof.Name,
		"DIR_PACKAGES=" + prof.PackagesDir,
		"DIR_REPOSITORY=" + filepath.Join(prof.PackagesDir, ".latest"),
		"DIR_PORTS=" + prof.PortsDir,
		"DIR_OPTIONS=" + prof.OptionsDir,
		"DIR_DISTFILES=" + prof.DistfilesDir,
		"DIR_LOGS=" + prof.LogsDir,
		"DIR_BUILDBASE=" + prof.BuildBase,
	}
}

func (h *hooks) record(r record.HookResult) {
	h.mu.Lock()
	h.results = append(h.results, r)
	h.mu.Unlock()
}

// run runs one hook, bounded by the profile's timeout, its output appended
// to logs_dir/hooks.log.
func (h *hooks) run(j hookJob) {
	timeout := h.p.Settings.Hooks.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, j.prog)
	cmd.Env, cmd.Dir = j.env, "/"
	lb := &limitedBuffer{b: &out, max: hookOutputMax}
	cmd.Stdout, cmd.Stderr = lb, lb // one writer: exec calls it from one goroutine
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	t0 := time.Now()
	err := cmd.Run()
	res := record.HookResult{Hook: j.name, Origin: j.origin, Program: j.prog, Start: t0.UTC(), Duration: time.Since(t0), Status: "ok"}
	switch {
	case ctx.Err() != nil:
		res.Status, res.Error = "timeout", fmt.Sprintf("killed after %s", timeout)
	case err != nil:
		res.Status, res.Error = "failed", err.Error()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.Error = fmt.Sprintf("exit status %d", ee.ExitCode())
		}
	}
	h.record(res)
	if res.Status != "ok" {
		what := j.name
		if j.origin != "" {
			what += " for " + j.origin
		}
		h.warn(fmt.Sprintf("hook %s (%s): %s", what, j.prog, res.Error))
	}
	h.appendLog(res, out.Bytes())
}

func (h *hooks) appendLog(r record.HookResult, out []byte) {
	dir := h.p.Settings.LogsDir
	if dir == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, "hooks.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "=== %s %s %s %s (%s): %s %s\n", r.Start.Format(time.RFC3339), r.Hook, r.Origin, r.Program,
		r.Duration.Round(time.Millisecond), r.Status, r.Error)
	f.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		f.Write([]byte("\n"))
	}
}

// limitedBuffer keeps the first max bytes written to b and drops the rest
// (a hook's output never fills memory nor blocks the hook).
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}
