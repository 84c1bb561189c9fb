package distfiles

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
)

// Status is how one port's fetch ended.
type Status string

const (
	// Fetched: some file was missing and every file is there now, its
	// checksum verified.
	Fetched Status = "fetched"
	// Present: every file was there already and its checksum verified.
	Present Status = "present"
	// Failed: the fetch or checksum target failed (or its slot could not
	// be set up); Reason and Output say why.
	Failed Status = "failed"
	// Skipped: not fetched because the port cannot be built (ignored or
	// failed to plan).
	Skipped Status = "skipped"
)

// TailLines is how many last lines of output a failed port keeps.
const TailLines = 6

// PortResult is the fetch of one port.
type PortResult struct {
	ID string
	// Files are the port's distfiles relative to distfiles_dir
	// (DIST_SUBDIR/FILE, or FILE).
	Files  []string
	Status Status
	// Reason says why the port failed or was skipped.
	Reason string
	// Output holds the last lines of a failed command's output.
	Output []string
	// Bytes is the size of the files that were not in distfiles_dir
	// before and are now.
	Bytes    int64
	LogPath  string
	Worker   int
	Duration time.Duration
}

// Result is a whole fetch.
type Result struct {
	// Ports are the plan's ports with distfiles, in plan order.
	Ports []PortResult
	// NoDistfiles counts the ports without distfiles (nothing to do).
	NoDistfiles int
	// Cleaned lists what a crashed run had left in the build base.
	Cleaned []string
}

// Count returns how many ports ended with status s.
func (r *Result) Count(s Status) int {
	n := 0
	for i := range r.Ports {
		if r.Ports[i].Status == s {
			n++
		}
	}
	return n
}

// Bytes is the total size downloaded (files new in distfiles_dir).
func (r *Result) Bytes() int64 {
	var n int64
	for i := range r.Ports {
		n += r.Ports[i].Bytes
	}
	return n
}

// EventKind tells what an Event reports.
type EventKind int

const (
	// EventStart: Total ports are to be fetched.
	EventStart EventKind = iota
	// EventPort: Worker started port ID.
	EventPort
	// EventPhase: Worker's port reached Phase.
	EventPhase
	// EventDone: Port is done (Done of Total).
	EventDone
	// EventEnd: the fetch is over.
	EventEnd
)

// Event is a progress event of Fetch; observers must not block.
type Event struct {
	Kind        EventKind
	Worker      int
	ID, Phase   string
	Port        *PortResult
	Done, Total int
	Time        time.Time
}

// Options configure Fetch.
type Options struct {
	Plan *plan.Plan
	// Workers is how many ports are fetched at once (0: the profile's
	// workers.count).
	Workers int
	// Isolator prepares the slots (execute.SlotIsolator in the CLI).
	Isolator execute.Isolator
	// Observe receives the progress events (may be nil).
	Observe func(Event)
	// LogsDir receives one log per port (default: logs_dir/fetch).
	LogsDir string
}

// Fetch fetches the distfiles of every port of the plan that has some and
// can be built (see the package documentation). The caller holds the
// build-base lock. A port failing is in the Result; the error is for
// what stops the whole fetch (host folders, a slot that cannot be
// prepared or torn down, an interrupt).
func Fetch(ctx context.Context, o Options) (*Result, error) {
	p := o.Plan
	prof := &p.Settings
	if err := execute.HostDirs(p); err != nil {
		return nil, err
	}
	logs := o.LogsDir
	if logs == "" {
		logs = filepath.Join(prof.LogsDir, "fetch")
	}
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, fmt.Errorf("fetch logs: %w", err)
	}
	res := &Result{}
	cleaned, err := o.Isolator.Cleanup()
	res.Cleaned = cleaned
	if err != nil {
		return res, fmt.Errorf("clean the build base: %w", err)
	}
	var todo []int // indexes into res.Ports
	for i := range p.Ports {
		n := &p.Ports[i]
		if len(n.Distfiles) == 0 {
			res.NoDistfiles++
			continue
		}
		pr := PortResult{ID: n.ID, Files: Paths(n), Worker: -1}
		switch {
		case n.Action == plan.ActionFailed:
			pr.Status, pr.Reason = Skipped, "failed to plan: "+n.Reason
		case n.Ignore != "":
			pr.Status, pr.Reason = Skipped, "ignored: "+n.Ignore
		default:
			todo = append(todo, len(res.Ports))
		}
		res.Ports = append(res.Ports, pr)
	}
	observe := func(e Event) {
		if o.Observe != nil {
			e.Time = time.Now()
			o.Observe(e)
		}
	}
	total := len(todo)
	observe(Event{Kind: EventStart, Total: total})
	defer observe(Event{Kind: EventEnd, Total: total})

	workers := o.Workers
	if workers <= 0 {
		workers = max(prof.Workers.Count, 1)
	}
	workers = min(workers, max(total, 1))
	f := &fetcher{p: p, ports: execute.NewPorts(p), iso: o.Isolator, logs: logs, observe: observe}
	var (
		mu    sync.Mutex
		done  int
		fatal error
		next  int
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if fatal != nil || ctx.Err() != nil || next >= len(todo) {
					mu.Unlock()
					return
				}
				pr := &res.Ports[todo[next]]
				next++
				mu.Unlock()
				observe(Event{Kind: EventPort, Worker: w, ID: pr.ID, Total: total})
				err := f.fetch(ctx, w, p.Node(pr.ID), pr)
				mu.Lock()
				if err != nil && fatal == nil {
					fatal = err
				}
				done++
				d := done
				mu.Unlock()
				observe(Event{Kind: EventDone, Worker: w, ID: pr.ID, Port: pr, Done: d, Total: total})
			}
		}()
	}
	wg.Wait()
	if fatal != nil {
		return res, fatal
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("fetch interrupted: %w", err)
	}
	return res, nil
}

// Paths returns node n's distfiles relative to distfiles_dir:
// DIST_SUBDIR/FILE, or FILE without DIST_SUBDIR.
func Paths(n *plan.Node) []string {
	out := make([]string, 0, len(n.Distfiles))
	for _, f := range n.Distfiles {
		if n.DistSubdir != "" {
			f = n.DistSubdir + "/" + f
		}
		out = append(out, path.Clean(f))
	}
	return out
}

type fetcher struct {
	p       *plan.Plan
	ports   *execute.Ports
	iso     execute.Isolator
	logs    string
	observe func(Event)
}

// sizes returns the size of each of files present in distfiles_dir as a
// regular file (-1 when absent).
func (f *fetcher) sizes(files []string) []int64 {
	out := make([]int64, len(files))
	for i, rel := range files {
		out[i] = -1
		if fi, err := os.Lstat(filepath.Join(f.p.Settings.DistfilesDir, filepath.FromSlash(rel))); err == nil && fi.Mode().IsRegular() {
			out[i] = fi.Size()
		}
	}
	return out
}

// fetch fetches port n on worker w (slot w+1) into pr. The error is
// fatal to the whole fetch (a slot that cannot be prepared or torn down).
func (f *fetcher) fetch(ctx context.Context, w int, n *plan.Node, pr *PortResult) (fatal error) {
	t0 := time.Now()
	pr.Worker = w
	defer func() { pr.Duration = time.Since(t0) }()
	fail := func(reason string, out []string) {
		pr.Status, pr.Reason, pr.Output = Failed, reason, out
		if ctx.Err() != nil {
			pr.Reason = "interrupted"
		}
	}
	before := f.sizes(pr.Files)
	present := true
	for _, s := range before {
		present = present && s >= 0
	}
	pr.LogPath = filepath.Join(f.logs, execute.LogName(n.ID))
	lf, err := os.Create(pr.LogPath)
	if err != nil {
		fail(fmt.Sprintf("log: %v", err), nil)
		return nil
	}
	defer lf.Close()
	fmt.Fprintf(lf, "dsynth fetch log\nnode:      %s\ndistfiles: %s\nworker:    %d (slot SL%02d)\nstart:     %s\n",
		n.ID, strings.Join(pr.Files, " "), w, w+1, t0.UTC().Format(time.RFC3339))

	setup, missing := f.ports.Setup(n, plan.DepFetch)
	if len(missing) > 0 {
		msg := fmt.Sprintf("its FETCH_DEPENDS are not built yet (no %s in packages_dir): build them first (dsynth apply)", strings.Join(missing, ", "))
		fmt.Fprintf(lf, "\n%s\n", msg)
		fail(msg, nil)
		return nil
	}
	slot, err := f.iso.Prepare(ctx, w+1, "")
	if err != nil {
		fmt.Fprintf(lf, "\nslot SL%02d: %v\n", w+1, err)
		fail(fmt.Sprintf("prepare slot SL%02d: %v", w+1, err), nil)
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("fetch %s: isolation: prepare slot SL%02d: %w", n.ID, w+1, err)
	}
	defer func() {
		if err := slot.Teardown(); err != nil {
			fmt.Fprintf(lf, "\nteardown slot SL%02d: %v\n", w+1, err)
			if fatal == nil {
				fatal = fmt.Errorf("fetch %s: isolation: tear down slot SL%02d: %w", n.ID, w+1, err)
			}
		}
	}()
	env := f.ports.Env(n)
	fmt.Fprintf(lf, "environment:\n")
	for _, e := range env {
		fmt.Fprintf(lf, "  %s\n", e)
	}
	run := func(phase, what string, argv []string, network bool) bool {
		f.observe(Event{Kind: EventPhase, Worker: w, ID: n.ID, Phase: phase})
		tail := &tailWriter{w: lf, max: TailLines}
		fmt.Fprintf(lf, "\n=== %s ===\n", what)
		st, err := f.ports.Run(ctx, slot, tail, argv, env, network, phase, what)
		if err != nil || st != 0 {
			msg := fmt.Sprintf("%s: exit status %d", what, st)
			if err != nil {
				msg = fmt.Sprintf("%s: %v", what, err)
			}
			fmt.Fprintf(lf, "=== %s: FAILED: %s ===\n", what, msg)
			fail(msg, tail.lines())
			return false
		}
		fmt.Fprintf(lf, "=== %s: ok ===\n", what)
		return true
	}
	for _, c := range setup {
		if !run("install-deps", c.What, c.Argv, false) {
			return nil
		}
	}
	targets := []string{"fetch", "checksum"}
	if present {
		// Nothing to download: the checksum target alone verifies the
		// files (and fetches again what it removes as bad).
		targets = []string{"checksum"}
	}
	for _, t := range targets {
		if !run(t, t+" target", f.ports.MakeArgv(n, t), true) {
			break
		}
	}
	after := f.sizes(pr.Files)
	for i := range after {
		if before[i] < 0 && after[i] >= 0 {
			pr.Bytes += after[i]
		}
	}
	if pr.Status == Failed {
		return nil
	}
	for i, s := range after {
		if s < 0 {
			fail(fmt.Sprintf("%s is not in distfiles_dir after the fetch and checksum targets", pr.Files[i]), nil)
			return nil
		}
	}
	pr.Status = Present
	if !present {
		pr.Status = Fetched
	}
	fmt.Fprintf(lf, "\n%s in %s\n", pr.Status, time.Since(t0).Round(time.Millisecond))
	return nil
}

// tailWriter copies to w and keeps the last max non-empty lines.
type tailWriter struct {
	mu      sync.Mutex
	w       io.Writer
	max     int
	partial []byte
	tail    []string
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.add(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	if len(t.partial) > 4096 {
		t.add(string(t.partial))
		t.partial = t.partial[:0]
	}
	return t.w.Write(p)
}

func (t *tailWriter) add(line string) {
	line = strings.TrimRight(line, "\r ")
	if strings.TrimSpace(line) == "" || makeNoise(line) {
		return
	}
	t.tail = append(t.tail, line)
	if len(t.tail) > t.max {
		t.tail = t.tail[len(t.tail)-t.max:]
	}
}

func (t *tailWriter) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.partial) > 0 {
		t.add(string(t.partial))
		t.partial = nil
	}
	return append([]string(nil), t.tail...)
}

// makeNoise tells make's own lines after a failed command ("*** Error
// code 1", "Stop.", "bmake: stopped in ..."), which say nothing of why.
func makeNoise(line string) bool {
	l := strings.TrimSpace(line)
	if l == "Stop." || strings.HasPrefix(l, "*** ") && strings.Contains(l, "Error code") {
		return true
	}
	if i := strings.Index(l, ": stopped in "); i > 0 && !strings.Contains(l[:i], " ") {
		return true
	}
	return false
}
