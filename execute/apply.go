package execute

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/dsynth/isolate/lock"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
)

// Options configure Apply.
type Options struct {
	// Plan is the plan with its file: the run record keeps the file, so
	// that the plan can be shown, exported and replayed again.
	Plan *planfile.File
	// Workers overrides the profile's worker count when > 0.
	Workers  int
	Isolator Isolator
	// Records is the records database path (default: the profile's).
	Records string
	// Verify lists the pinned inputs of the plan that changed (stale plan
	// check); nil skips the check.
	Verify func(ctx context.Context, p *plan.Plan) ([]string, error)
	// Observers receive every event (progress display, API).
	Observers []Observer
	// Warn receives warnings (lock takeover, crashed runs, cleaned slots).
	Warn func(string)
	// ReplayOf and PackagesDir are recorded on the run (record.Run) when
	// it is a replay (see execute/replay).
	ReplayOf, PackagesDir string
	// SourceDateEpoch overrides, per node ID, the SOURCE_DATE_EPOCH of the
	// plan's tree: a replay rebuilds a port that was up to date in the
	// replayed run with the epoch its package was originally built with.
	SourceDateEpoch map[string]string
	// Gate pauses and resumes workers while the run goes (nil: never).
	Gate *WorkerGate
	// Executor builds each port (nil: in this host's slots). Workers is
	// then how many ports are dispatched at once.
	Executor PortExecutor
	// Publisher builds and publishes the package repository once a run
	// built something (nil: never; see execute/publish). A replay, which
	// writes elsewhere, never publishes.
	Publisher Publisher
	// sampleHost and throttleEvery replace the throttle's host sampling
	// and period (tests).
	sampleHost    func() hostSample
	throttleEvery time.Duration
}

// Publisher builds and publishes the package repository of a run's
// packages folder; it records the operation and returns it (nil when
// there is nothing to publish with, e.g. a tree without ports-mgmt/pkg).
type Publisher interface {
	Publish(ctx context.Context, runID string) (*record.Operation, error)
}

// StaleError is returned when the plan's pinned inputs changed.
type StaleError struct{ Changes []string }

func (e *StaleError) Error() string {
	return fmt.Sprintf("the plan is stale, its pinned inputs changed:\n  %s\nrun `dsynth plan` again",
		strings.Join(e.Changes, "\n  "))
}

// Summary is the outcome of Apply.
type Summary struct {
	RunID  string
	Status string // a record.Run* status
	Counts record.Counts
	Wall   time.Duration
	// Failed lists failed ports with their phase, Skipped the skipped ones
	// with their chains.
	Failed  []string
	Skipped []string
	// CCache says how the profile's ccache served the run ("" without
	// ccache_dir, or without ccache on the host to ask).
	CCache string
	// Repository is the repository build that followed the run (nil:
	// none), RepositoryErr why it failed.
	Repository    *record.Operation
	RepositoryErr error
}

// Complete is true when every planned port is built or up to date.
func (s *Summary) Complete() bool {
	c := s.Counts
	return s.Status == record.RunSuccess && c.Failed == 0 && c.Skipped == 0 && c.Ignored == 0
}

// PkgsPerHour is the built packages per hour of wall time.
func (s *Summary) PkgsPerHour() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.Counts.Built) / s.Wall.Hours()
}

// apply builds plan o.Plan (Session.Apply: the caller holds the build
// base).
func apply(ctx context.Context, o Options) (*Summary, error) {
	if o.Plan == nil {
		return nil, errors.New("apply: no plan")
	}
	p := o.Plan.Plan()
	if o.Isolator == nil {
		return nil, errors.New("apply: no isolator")
	}
	if o.Records == "" {
		o.Records = p.Settings.Records
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	// Every warning of the run also goes to 05_abnormal_command_output.log.
	abnormal := &abnormalLog{}
	userWarn := o.Warn
	o.Warn = func(s string) { abnormal.add(s); userWarn(s) }
	workers := o.Workers
	if workers <= 0 {
		workers = max(p.Settings.Workers.Count, 1)
	}
	if o.Verify != nil {
		changes, err := o.Verify(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("verify plan: %w", err)
		}
		if len(changes) > 0 {
			return nil, &StaleError{Changes: changes}
		}
	}
	if err := hostDirs(&p.Settings); err != nil {
		return nil, err
	}
	rec := &recorder{path: o.Records}

	// Crash recovery: runs left "running" by dead processes, and the
	// slots they left.
	rcv, err := recoverBase(o.Records, p.Settings.BuildBase, true, o.Isolator.Cleanup)
	if err != nil {
		return nil, err
	}
	for _, r := range rcv.Crashed {
		o.Warn(fmt.Sprintf("run %s (pid %d, started %s) died: recorded as crashed", r.ID, r.PID, r.Start.Format(time.RFC3339)))
	}
	for _, c := range rcv.Cleaned {
		o.Warn("cleaning up a leftover slot: " + c)
	}

	// History: expected durations and what earlier runs of this plan built
	// (resumed: not built again). A forced port is resumed only from runs
	// after the last one that completed: applying a forced plan again once
	// it ran to its end builds the forced ports again (plans are
	// deterministic, so the same forced plan has the same digest), while
	// an interrupted forced apply still resumes.
	var expected map[string]time.Duration
	resumed := map[string]*record.Attempt{}
	resumedForced := map[string]*record.Attempt{}
	err = rec.view(func(db *record.DB) error {
		var err error
		if expected, err = db.ExpectedDurations(); err != nil {
			return err
		}
		runs, err := db.Runs()
		if err != nil {
			return err
		}
		for _, r := range runs { // oldest first
			if r.PlanDigest == "" || r.PlanDigest != p.Digest {
				continue
			}
			if r.Status == record.RunSuccess || r.Status == record.RunFailed {
				clear(resumedForced)
			}
			atts, err := db.RunAttempts(r.ID)
			if err != nil {
				return err
			}
			for _, a := range atts {
				if a.Status == record.AttemptSuccess {
					resumed[a.NodeID] = a
					if r.Status != record.RunSuccess && r.Status != record.RunFailed {
						resumedForced[a.NodeID] = a
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	host, _ := os.Hostname()
	run := &record.Run{ID: uuid.NewString(), PlanDigest: p.Digest, Plan: o.Plan.Bytes(),
		ProfileName: p.Settings.Name, ProfileFile: p.Settings.File, BuildBase: p.Settings.BuildBase,
		Workers: workers, Start: time.Now().UTC(), Status: record.RunRunning, PID: os.Getpid(), Host: host,
		ReplayOf: o.ReplayOf, PackagesDir: o.PackagesDir}
	run.Counts.Planned = len(p.Ports)
	a := &applier{o: o, p: p, run: run, rec: rec, b: newBuilder(p, o.Isolator, o.SourceDateEpoch), abnormal: abnormal,
		results: map[string]*PortResult{}, attempts: map[string]*record.Attempt{}, attemptIDs: map[string]string{},
		workers: map[int]*record.Worker{}, live: &liveStatus{path: StatusFile(p.Settings.BuildBase)}}
	a.live.s = Status{RunID: run.ID, PID: run.PID, Start: run.Start, Total: len(p.Ports)}
	// Everything that can fail before the run is recorded fails here, so
	// that no run is left "running" by an early error.
	if err := os.MkdirAll(p.Settings.BuildBase, 0o755); err != nil {
		return nil, fmt.Errorf("build base: %w", err)
	}
	if err := a.openResults(); err != nil {
		return nil, err
	}
	defer a.closeResults()
	if err := rec.update(func(db *record.DB) error { return db.SaveRun(run) }); err != nil {
		return nil, err
	}
	a.b.progress = func(w int, id, phase string) {
		a.emit(Event{Kind: EventPhase, Node: id, Worker: w, Phase: phase})
	}
	if p.Settings.Hooks != nil {
		a.hooks = newHooks(p, o.Warn)
	}
	a.emit(Event{Kind: EventRunStart, Worker: -1})
	// The live status file's time is the run's heartbeat: touched even
	// while no event comes (a long silent phase) and when the disk is full
	// (a time update needs no space), so that a crashed run is ended at
	// its real last moment.
	stopBeat := a.live.heartbeat(heartbeatEvery)
	defer stopBeat()

	// Ports that are not built: planned skips, resumed, ignored, skipped.
	// Nodes go in dependency order, so that a port depending on one that
	// cannot be built is skipped too, with the chain.
	type blocked struct {
		cause string   // "devel/x is ignored"
		via   []string // the ports between the cause and the dependent
	}
	bad := map[string]blocked{}
	expectedOf := ExpectedDurations(expected)
	var jobs []Job
	var pre []*record.Attempt
	for _, n := range a.inOrder() {
		at := a.newAttempt(n)
		switch n.Action {
		case plan.ActionSkip:
			at.Status, at.Error, at.PkgFile = record.AttemptUpToDate, n.Reason, n.PkgFile
		case plan.ActionIgnored:
			at.Status, at.Error = record.AttemptIgnored, n.Ignore
			bad[n.ID] = blocked{cause: n.ID + " is ignored"}
		case plan.ActionSkipped:
			at.Status, at.Error = record.AttemptSkipped, n.Reason
			bad[n.ID] = blocked{cause: strings.TrimPrefix(n.Reason, "skipped: "), via: []string{n.ID}}
		case plan.ActionFailed:
			// Could not be planned: failed without a build, like an
			// ignored port, and its dependents are skipped.
			at.Status, at.Error, at.LastPhase = record.AttemptFailed, "failed to plan: "+n.Reason, "plan"
			bad[n.ID] = blocked{cause: n.ID + " failed to plan"}
		default:
			prev := resumed[n.ID]
			if n.Reason == plan.ReasonForced {
				prev = resumedForced[n.ID]
			}
			if prev != nil && prev.InputKey == n.InputKey && a.packageIntact(n, prev) {
				at.Status, at.Error = record.AttemptUpToDate, "built by run "+prev.RunID+" of this plan"
				at.PkgFile, at.SHA256, at.Size = prev.PkgFile, prev.SHA256, prev.Size
				break
			}
			deps := a.b.directDeps(n)
			for _, d := range deps {
				if b, ok := bad[d]; ok {
					at.Status, at.Error = record.AttemptSkipped, "skipped: "+b.cause
					if len(b.via) > 0 {
						at.Error += " (needed by " + strings.Join(b.via, " -> ") + ")"
					}
					bad[n.ID] = blocked{cause: b.cause, via: append(append([]string(nil), b.via...), n.ID)}
					break
				}
			}
			if at.Status == "" {
				jobs = append(jobs, Job{ID: n.ID, Deps: deps, Weight: expectedOf(n.ID)})
				continue
			}
		}
		pre = append(pre, at)
	}
	if err := rec.update(func(db *record.DB) error { return db.SaveAttempts(pre...) }); err != nil {
		return a.abort(err)
	}
	for _, at := range pre {
		a.count(at)
		kind := map[string]string{record.AttemptUpToDate: EventUpToDate, record.AttemptIgnored: EventIgnored,
			record.AttemptSkipped: EventSkipped, record.AttemptFailed: EventFailed}[at.Status]
		a.emit(Event{Kind: kind, Node: at.NodeID, Worker: -1, Phase: at.LastPhase, Reason: at.Error})
	}

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	a.stop = stop
	gate := o.Gate
	if gate == nil {
		gate = NewWorkerGate()
	}
	ccBefore, ccOK := readCCacheStats(p.Settings.Workers.CCacheDir)
	stopThrottle := func() {}
	if !p.Settings.Workers.NoThrottle {
		sample := o.sampleHost
		if sample == nil {
			sample = sampleHost
		}
		every := o.throttleEvery
		if every <= 0 {
			every = throttleEvery
		}
		stopThrottle = a.throttle(gate, workers, every, sample)
	}
	res, err := Schedule(sctx, jobs, workers, a.runJob, Hooks{Start: a.onStart, Done: a.onDone, Skip: a.onSkip, Gate: gate})
	stopThrottle() // no throttle event after the run's end
	ccAfter, ccOK2 := readCCacheStats(p.Settings.Workers.CCacheDir)
	a.ccache = ccacheLine(ccBefore, ccOK, ccAfter, ccOK2)
	if err != nil {
		return a.abort(err)
	}
	return a.finish(ctx, res)
}

// applier is the state of one Apply.
type applier struct {
	hooks    *hooks // nil without a hooks block
	abnormal *abnormalLog
	ccache   string
	o        Options
	p        *plan.Plan
	run      *record.Run
	rec      *recorder
	b        *builder
	live     *liveStatus

	mu       sync.Mutex
	results  map[string]*PortResult
	attempts map[string]*record.Attempt
	// attemptIDs are the attempts' IDs for the workers' goroutines (mu).
	attemptIDs map[string]string
	workers    map[int]*record.Worker
	done       int
	failed     []string
	skipped    []string
	lastRes    *os.File
	evMu       sync.Mutex         // counts, done and event delivery
	stop       context.CancelFunc // stops the scheduling
	fatal      error              // the build environment failed
}

func (a *applier) newAttempt(n *plan.Node) *record.Attempt {
	return &record.Attempt{ID: uuid.NewString(), RunID: a.run.ID, NodeID: n.ID, Origin: n.Origin,
		Flavor: n.Flavor, PkgName: n.PkgName, Version: n.Version, CRC32: n.CRC32, InputKey: n.InputKey,
		TreeCommit: a.p.Tree.GitCommit, SystemID: a.p.Environment.SystemID, EnvKey: a.p.Environment.Key,
		Worker: -1, OptionsSet: n.SelectedOptions, OptionsUnset: n.DeselectedOptions, Action: string(n.Action)}
}

// packageIntact is true when prev's package is still in packages_dir.
func (a *applier) packageIntact(n *plan.Node, prev *record.Attempt) bool {
	if n.Meta || n.PkgFile == "" {
		return true
	}
	if prev.PkgFile != n.PkgFile {
		return false
	}
	sum, _, err := fileSHA256(filepath.Join(a.p.Settings.PackagesDir, "All", n.PkgFile))
	return err == nil && sum == prev.SHA256
}

func (a *applier) node(id string) *plan.Node { return a.b.nodes[id] }

// inOrder returns the plan's nodes, every one after its dependencies
// (Plan.Order, or a topological sort of Ports for plans without it).
func (a *applier) inOrder() []*plan.Node {
	var out []*plan.Node
	if len(a.p.Order) == len(a.p.Ports) {
		for _, id := range a.p.Order {
			if n := a.node(id); n != nil {
				out = append(out, n)
			}
		}
		if len(out) == len(a.p.Ports) {
			return out
		}
		out = out[:0]
	}
	seen := map[string]bool{}
	var visit func(n *plan.Node)
	visit = func(n *plan.Node) {
		if seen[n.ID] {
			return
		}
		seen[n.ID] = true
		for _, k := range plan.DepKinds {
			for _, d := range n.Deps[k] {
				if dn := a.node(d); dn != nil {
					visit(dn)
				}
			}
		}
		out = append(out, n)
	}
	for i := range a.p.Ports {
		visit(&a.p.Ports[i])
	}
	return out
}

func (a *applier) runJob(ctx context.Context, w int, id string) Outcome {
	var r PortResult
	if a.o.Executor != nil {
		a.mu.Lock()
		attempt := a.attemptIDs[id]
		a.mu.Unlock()
		r = a.o.Executor.BuildPort(ctx, PortRequest{Worker: w, Attempt: attempt, RunID: a.run.ID, Plan: a.p, Node: a.node(id),
			Progress: func(phase string) { a.emit(Event{Kind: EventPhase, Node: id, Worker: w, Phase: phase}) }})
	} else {
		r = a.b.build(ctx, w, a.node(id))
	}
	a.mu.Lock()
	a.results[id] = &r
	if r.Fatal != nil && a.fatal == nil {
		a.fatal = r.Fatal
		a.stop() // no more ports; the running ones are interrupted
	}
	a.mu.Unlock()
	return r.Outcome
}

func (a *applier) onStart(w int, id string) {
	at := a.newAttempt(a.node(id))
	at.Worker, at.Status, at.Start = w, record.AttemptBuilding, time.Now().UTC()
	at.LogPath = filepath.Join(a.p.Settings.LogsDir, LogName(id))
	a.attempts[id] = at
	a.mu.Lock()
	a.attemptIDs[id] = at.ID
	a.mu.Unlock()
	wk := a.worker(w)
	wk.State, wk.NodeID, wk.Since = "building", id, at.Start
	a.rec.update(func(db *record.DB) error { return db.StartAttempt(at, wk) })
	a.emit(Event{Kind: EventStart, Node: id, Worker: w})
}

func (a *applier) worker(w int) *record.Worker {
	wk := a.workers[w]
	if wk == nil {
		wk = &record.Worker{RunID: a.run.ID, Worker: w, State: "idle"}
		a.workers[w] = wk
	}
	return wk
}

func (a *applier) onDone(w int, id string, o Outcome) {
	a.mu.Lock()
	r := a.results[id]
	a.mu.Unlock()
	at := a.attempts[id]
	n := a.node(id)
	at.End = r.End.UTC()
	for _, ph := range r.Phases {
		at.Phases = append(at.Phases, record.Phase{Name: ph.Name, Start: ph.Start.UTC(), End: ph.End.UTC(), Status: ph.Status})
	}
	if len(r.Phases) > 0 {
		at.LastPhase = r.Phases[len(r.Phases)-1].Name
	}
	at.DepsInstalled, at.Env, at.MakeArgs, at.LogPath = r.DepsInstalled, r.Env, r.MakeArgs, r.LogPath
	at.PkgFile, at.Size, at.SHA256, at.Host = r.PkgFile, r.Size, r.SHA256, r.Host
	// Attempts lost with their build host (a farm retried the port on
	// another): recorded, not counted.
	var lost []*record.Attempt
	for _, l := range r.Lost {
		la := a.newAttempt(n)
		la.Worker, la.Host, la.Status, la.LastPhase = w, l.Host, record.AttemptInterrupted, l.Phase
		la.Start, la.End, la.Error = l.Start.UTC(), l.End.UTC(), l.Err
		la.LogPath = at.LogPath
		lost = append(lost, la)
	}
	switch {
	case o.OK:
		at.Status = record.AttemptSuccess
	case o.Interrupted:
		at.Status, at.Error = record.AttemptInterrupted, o.Err
	default:
		at.Status, at.Error, at.LastPhase = record.AttemptFailed, o.Err, o.Phase
	}
	wk := a.worker(w)
	wk.State, wk.Since = "idle", at.End
	wk.Busy += at.Duration()
	if o.OK {
		wk.Built++
	} else if !o.Interrupted {
		wk.Failed++
	}
	fin := record.Finished{Attempt: at, Lost: lost, Worker: wk}
	// A replay's packages are not in packages_dir: they never become the
	// latest packages. Meta ports get a record without a package file, so
	// that the next plan finds them up to date.
	if o.OK && a.o.ReplayOf == "" {
		fin.Latest = &record.Package{NodeID: id, InputKey: n.InputKey, CRC32: n.CRC32,
			Version: n.Version, PkgFile: at.PkgFile, SHA256: at.SHA256, Size: at.Size,
			AttemptID: at.ID, RunID: a.run.ID, Built: at.End.Format(time.RFC3339)}
	}
	a.rec.update(func(db *record.DB) error { return db.FinishAttempt(fin) })
	if o.Interrupted {
		a.evMu.Lock()
		a.lastResult(at) // not counted: the port is built again on resume
		a.evMu.Unlock()
		return
	}
	a.count(at)
	kind := EventBuilt
	if !o.OK {
		kind = EventFailed
	}
	a.emit(Event{Kind: kind, Node: id, Worker: w, Phase: o.Phase, Reason: o.Err, Duration: at.Duration()})
}

func (a *applier) onSkip(id, reason string) {
	at := a.newAttempt(a.node(id))
	at.Status, at.Error = record.AttemptSkipped, reason
	a.rec.update(func(db *record.DB) error { return db.SaveAttempts(at) })
	a.attempts[id] = at
	a.count(at)
	a.emit(Event{Kind: EventSkipped, Node: id, Worker: -1, Reason: reason})
}

// count adds a finished attempt to the run's counts.
func (a *applier) count(at *record.Attempt) {
	a.evMu.Lock()
	defer a.evMu.Unlock()
	addCount(&a.run.Counts, at.Status)
	switch at.Status {
	case record.AttemptFailed:
		a.failed = append(a.failed, at.NodeID+" ("+at.LastPhase+")")
	case record.AttemptSkipped:
		a.skipped = append(a.skipped, at.NodeID+": "+strings.TrimPrefix(at.Error, "skipped: "))
	}
	a.done++
	a.lastResult(at)
}

// addCount adds one finished attempt's status to c.
func addCount(c *record.Counts, status string) {
	switch status {
	case record.AttemptSuccess:
		c.Built++
	case record.AttemptFailed:
		c.Failed++
	case record.AttemptSkipped:
		c.Skipped++
	case record.AttemptIgnored:
		c.Ignored++
	case record.AttemptUpToDate:
		c.UpToDate++
	}
}

// latest returns the latest of ts.
func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// emit delivers e to the live status and the observers, one event at a
// time (phase events come from the workers' goroutines).
func (a *applier) emit(e Event) {
	a.evMu.Lock()
	defer a.evMu.Unlock()
	e.Time, e.RunID, e.Done, e.Total, e.Count = time.Now(), a.run.ID, a.done, len(a.p.Ports), a.run.Counts
	a.live.apply(e)
	for _, ob := range a.o.Observers {
		ob(e)
	}
	if a.hooks != nil {
		a.hooks.event(e, a.b.nodes[e.Node])
	}
}

// abort ends a run that could not continue.
// abort ends a started run that cannot go on: recorded as an error, and
// a run-end event so that observers (serve's events) see it end.
func (a *applier) abort(err error) (*Summary, error) {
	a.run.Status, a.run.Error, a.run.End = record.RunError, err.Error(), time.Now().UTC()
	if a.hooks != nil {
		a.run.Hooks = a.hooks.end(a.run)
		a.hooks = nil
	}
	a.rec.update(func(db *record.DB) error { return db.SaveRun(a.run) })
	a.live.remove()
	a.emit(Event{Kind: EventRunEnd, Worker: -1, Reason: a.run.Status, Duration: a.run.End.Sub(a.run.Start)})
	return nil, err
}

func (a *applier) finish(ctx context.Context, res map[string]*Result) (*Summary, error) {
	// Ports still building when interrupted.
	for id, r := range res {
		if r.State == JobInterrupted {
			if at := a.attempts[id]; at != nil && at.Status == record.AttemptBuilding {
				at.Status, at.Error, at.End = record.AttemptInterrupted, "interrupted", time.Now().UTC()
				a.rec.update(func(db *record.DB) error { return db.SaveAttempts(at) })
				a.evMu.Lock()
				a.lastResult(at)
				a.evMu.Unlock()
			}
		}
	}
	r := a.run
	r.End = time.Now().UTC()
	switch {
	case a.fatal != nil:
		r.Status, r.Error = record.RunError, a.fatal.Error()
	case ctx.Err() != nil:
		r.Status, r.Error = record.RunInterrupted, "interrupted by signal"
	case r.Counts.Failed+r.Counts.Skipped+r.Counts.Ignored > 0:
		r.Status = record.RunFailed
	default:
		r.Status = record.RunSuccess
	}
	recErr := a.rec.err
	if recErr != nil {
		r.Status, r.Error = record.RunError, "records: "+recErr.Error()
	}
	// Every worker is idle now; NodeID stays the last port it built.
	for _, wk := range a.workers {
		wk.State = "idle"
	}
	// The repository, before run_end's hook (which may ship it).
	var repo *record.Operation
	var repoErr error
	if a.o.Publisher != nil && a.o.PackagesDir == "" && a.p.PkgNode != "" && a.p.Settings.RepositoryConfig().PublishAfterRun &&
		r.Counts.Built > 0 && a.fatal == nil && ctx.Err() == nil && recErr == nil {
		a.emit(Event{Kind: EventRepository, Worker: -1, Reason: "building"})
		repo, repoErr = a.o.Publisher.Publish(ctx, r.ID)
		switch {
		case repoErr != nil:
			a.o.Warn("the package repository was not published: " + repoErr.Error())
			a.emit(Event{Kind: EventRepository, Worker: -1, Reason: record.OpFailed + ": " + repoErr.Error()})
		case repo != nil:
			a.emit(Event{Kind: EventRepository, Worker: -1, Reason: record.OpOK})
		}
	}
	if a.hooks != nil {
		r.Hooks = a.hooks.end(r)
		a.hooks = nil
	}
	a.rec.err = nil
	workers := make([]*record.Worker, 0, len(a.workers))
	for _, wk := range a.workers {
		workers = append(workers, wk)
	}
	a.rec.update(func(db *record.DB) error { return db.EndRun(r, workers) })
	a.emit(Event{Kind: EventRunEnd, Worker: -1, Reason: r.Status, Duration: r.End.Sub(r.Start)})
	a.live.remove()
	os.Remove(filepath.Join(a.p.Settings.PackagesDir, stagingDir)) // when empty
	if err := a.writeSummaryLogs(); err != nil {
		a.o.Warn(err.Error())
	}
	sort.Strings(a.failed)
	sort.Strings(a.skipped)
	s := &Summary{RunID: r.ID, Status: r.Status, Counts: r.Counts, Wall: r.End.Sub(r.Start), Failed: a.failed, Skipped: a.skipped, CCache: a.ccache,
		Repository: repo, RepositoryErr: repoErr}
	if recErr == nil {
		recErr = a.rec.err
	}
	if a.fatal != nil {
		return s, a.fatal
	}
	if recErr != nil {
		return s, fmt.Errorf("records: %w", recErr)
	}
	return s, nil
}

// recorder writes the records database, opening it for each batch so
// that readers are never locked out for long.
type recorder struct {
	path string
	err  error // first write error
}

func (r *recorder) open(ro bool) (*record.DB, error) {
	db, err := record.Open(r.path, record.Options{ReadOnly: ro, Timeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("%w\n(the packages in packages_dir are untouched; move the records file aside to start new records)", err)
	}
	return db, nil
}

func (r *recorder) update(fn func(db *record.DB) error) error {
	db, err := r.open(false)
	if err == nil {
		err = fn(db)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil && r.err == nil {
		r.err = err
	}
	return err
}

func (r *recorder) view(fn func(db *record.DB) error) error {
	db, err := r.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

// recoverCrashed marks as crashed every run of buildBase still recorded as
// running whose process is gone, and their building attempts as
// interrupted. It returns those runs.
//
// On a full disk the runs are still found and returned, with an error
// wrapping ErrNotRecorded: the records are updated by the next recovery
// that has room.
func recoverCrashed(records, buildBase string) ([]*record.Run, error) {
	rec := &recorder{path: records}
	var out []*record.Run
	var unrecorded error
	host, _ := os.Hostname()
	// The build base's lock says who runs there: a run is alive only
	// while its process holds the lock. The PID alone would keep a run
	// "running" after its process died as a zombie, or when a new process
	// got its PID (after a reboot, say).
	holder, live, err := lock.Holder(buildBase)
	if err != nil {
		return nil, err
	}
	err = rec.view(func(db *record.DB) error {
		runs, err := db.Runs()
		if err != nil {
			return err
		}
		for _, r := range runs {
			if r.Status != record.RunRunning || r.BuildBase != buildBase || (r.Host != "" && r.Host != host) ||
				(live && holder == r.PID) {
				continue
			}
			atts, err := db.RunAttempts(r.ID)
			if err != nil {
				return err
			}
			// The run's counts are written when it ends: rebuild them from
			// its attempts, and end it (and the ports it was building) at
			// its last recorded activity, not at the time of this recovery.
			end := r.Start
			r.Counts = record.Counts{Planned: r.Counts.Planned}
			for _, at := range atts {
				if at.Status != record.AttemptBuilding {
					addCount(&r.Counts, at.Status)
				}
				end = latest(end, at.Start, at.End)
				for _, ph := range at.Phases {
					end = latest(end, ph.Start, ph.End)
				}
			}
			// The live status file is rewritten on every event.
			if s, err := ReadStatus(buildBase); err == nil && s.RunID == r.ID {
				if fi, err := os.Stat(StatusFile(buildBase)); err == nil {
					end = latest(end, fi.ModTime().UTC())
				}
			}
			if end.IsZero() {
				end = time.Now().UTC()
			}
			err = db.MarkCrashed(r, atts, end, fmt.Sprintf("process %d died", r.PID))
			if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
				// A full disk: the finding stands (and is returned), the
				// records keep "running" until a recovery with room.
				r.Status, r.Error, r.End = record.RunCrashed, fmt.Sprintf("process %d died", r.PID), end
				out = append(out, r)
				unrecorded = err
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err == nil && unrecorded != nil {
		err = fmt.Errorf("%w: %w", ErrNotRecorded, unrecorded)
	}
	return out, err
}

// ErrNotRecorded: Recover (or a run's recovery) found crashed runs but could not write
// the records (a full disk).
var ErrNotRecorded = errors.New("crashed runs found but not recorded")

// ExpectedDurations gives the expected build time of a node: its own
// latest successful build, else the longest of its origin's other flavors
// (a new flavor of a port builds much like the others), else 0 (unknown).
func ExpectedDurations(byNode map[string]time.Duration) func(id string) time.Duration {
	byOrigin := map[string]time.Duration{}
	for k, v := range byNode {
		o, _, _ := strings.Cut(k, "@")
		byOrigin[o] = max(byOrigin[o], v)
	}
	return func(id string) time.Duration {
		if d, ok := byNode[id]; ok {
			return d
		}
		o, _, _ := strings.Cut(id, "@")
		return byOrigin[o]
	}
}

// hostDirs makes the host folders the slots mount (distfiles, packages,
// options, the sources of writable mount blocks) and the logs folder, and
// checks that the sources of read-only mount blocks exist, before anything
// is recorded or built.
func hostDirs(prof *plan.Settings) error {
	for _, d := range []string{prof.DistfilesDir, filepath.Join(prof.PackagesDir, "All"), prof.OptionsDir, prof.LogsDir, prof.Workers.CCacheDir} {
		if d == "" || d == "All" {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("prepare %s: %w", d, err)
		}
	}
	for _, m := range prof.Environment.Mounts {
		if _, err := os.Stat(m.Source); err == nil {
			continue
		}
		if !m.ReadOnly {
			if err := os.MkdirAll(m.Source, 0o755); err != nil {
				return fmt.Errorf("mount %q: create its source %s: %w", m.Target, m.Source, err)
			}
			continue
		}
		return fmt.Errorf("mount %q: its source %s does not exist (the source of a read-only mount must exist)", m.Target, m.Source)
	}
	return nil
}
