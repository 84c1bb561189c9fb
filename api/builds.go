package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

// profileState is one served profile: its build queue and the build it
// runs. Builds of a profile run one at a time (they share a build base).
type profileState struct {
	s      *Server
	name   string
	loaded *spec.Loaded

	mu    sync.Mutex
	queue []*QueueItem
	cur   *activeBuild
	// planning: a request found the builder free and is planning its
	// build; the queue waits for it (its item goes first).
	planning bool
	wake     chan struct{}
	// ext is the live status of a run another process makes on the build
	// base (see follow), nil when none.
	ext *execute.Status
}

func (ps *profileState) profile() *spec.Profile { return ps.loaded.Profile }

// QueueItem is a build waiting for (or holding) its profile's builder.
type QueueItem struct {
	ID       string   `json:"id"`
	Profile  string   `json:"profile"`
	Packages []string `json:"packages,omitempty"`
	Force    bool     `json:"force,omitempty"`
	// KeepGoing plans even when an explicit target cannot be planned (it
	// becomes a failed node, its dependents are skipped).
	KeepGoing bool      `json:"keep_going,omitempty"`
	RetryOf   string    `json:"retry_of,omitempty"`
	Queued    time.Time `json:"queued"`
	By        string    `json:"by,omitempty"`
	// Uploaded is true when the build applies an uploaded plan file.
	Uploaded bool `json:"uploaded_plan,omitempty"`

	plan    *planfile.File
	verify  bool
	started chan startResult
	// planner: the item of a request that found the builder free and
	// planned at once (it goes first in the queue).
	planner bool
}

type startResult struct {
	runID string
	err   error
}

// activeBuild is the build a profile runs.
type activeBuild struct {
	item    *QueueItem
	plan    *plan.Plan
	workers int
	cancel  context.CancelFunc
	gate    *execute.WorkerGate
	done    chan struct{}
	tails   *tailers

	mu     sync.Mutex
	runID  string
	status execute.Status
	// ended is set at the run's end event, before apply returns.
	ended bool
}

// finishing reports whether b's run has ended (apply is writing its
// summary): a new build may be planned already.
func (b *activeBuild) finishing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ended
}

func (b *activeBuild) snapshot() (string, execute.Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.status
	st.Workers = slices.Clone(st.Workers)
	return b.runID, st
}

// enqueue adds item to the queue and wakes the builder.
func (ps *profileState) enqueue(item *QueueItem) int {
	ps.mu.Lock()
	n := 1
	if item.planner {
		// The request that found the builder free goes first, ahead of
		// those queued while it planned; the queue may go on.
		ps.queue = append([]*QueueItem{item}, ps.queue...)
		ps.planning = false
	} else {
		ps.queue = append(ps.queue, item)
		n = len(ps.queue)
	}
	ps.mu.Unlock()
	ps.s.metrics.queueLen.Add(1)
	select {
	case ps.wake <- struct{}{}:
	default:
	}
	return n
}

// remove drops queued item id; false when it is not queued.
func (ps *profileState) remove(id string) (*QueueItem, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i, it := range ps.queue {
		if it.ID == id {
			ps.queue = append(ps.queue[:i], ps.queue[i+1:]...)
			ps.s.metrics.queueLen.Add(-1)
			return it, true
		}
	}
	return nil, false
}

func (ps *profileState) current() *activeBuild {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.cur
}

// runQueue runs queued builds one after the other until ctx ends.
func (ps *profileState) runQueue(ctx context.Context) {
	for {
		ps.mu.Lock()
		var item *QueueItem
		if len(ps.queue) > 0 && !ps.planning {
			item = ps.queue[0]
			ps.queue = ps.queue[1:]
		}
		ps.mu.Unlock()
		if item != nil {
			ps.s.metrics.queueLen.Add(-1)
			ps.runItem(ctx, item)
			continue
		}
		select {
		case <-ctx.Done():
			ps.mu.Lock()
			dropped := ps.queue
			ps.queue = nil
			ps.mu.Unlock()
			for _, it := range dropped {
				ps.s.metrics.queueLen.Add(-1)
				it.signal(startResult{err: errors.New("the server shut down")})
			}
			return
		case <-ps.wake:
		}
	}
}

func (it *QueueItem) signal(r startResult) {
	if it.started != nil {
		select {
		case it.started <- r:
		default:
		}
	}
}

// planItem makes the plan of a request (the profile with the requested
// targets), reading and writing the records' port cache.
func (ps *profileState) planItem(ctx context.Context, packages []string, force, keepGoing bool) (*planfile.File, time.Duration, error) {
	prof := *ps.profile()
	if len(packages) > 0 {
		prof.Targets = slices.Clone(packages)
		sort.Strings(prof.Targets)
		prof.Targets = slices.Compact(prof.Targets)
	}
	db, err := plan.RecordsStore(prof.Records)
	if err != nil {
		return nil, 0, err
	}
	defer plan.CloseStore(db)
	o := plan.Options{Profile: &prof, ProfileSource: ps.loaded.Source, DB: db, DsynthVersion: ps.s.cfg.Version, KeepGoing: keepGoing}
	if force {
		if len(packages) > 0 {
			o.Force = packages
		} else {
			o.ForceAll = true
		}
	}
	p, _, err := plan.Create(ctx, o)
	if err != nil {
		return nil, 0, errf(http.StatusUnprocessableEntity, CodePlanFailed, excerptMessage(err.Error()))
	}
	f, err := planfile.Encode(p)
	if err != nil {
		return nil, 0, err
	}
	var exp map[string]time.Duration
	if err := withDB(ps, func(db *record.DB) error {
		exp, err = db.ExpectedDurations()
		return err
	}); err != nil {
		return nil, 0, err
	}
	return f, estimate(p, exp, ps.workers(p)), nil
}

func (ps *profileState) workers(p *plan.Plan) int {
	if ps.s.cfg.Workers > 0 {
		return ps.s.cfg.Workers
	}
	return max(1, p.Settings.Workers.Count)
}

// estimate is the expected wall time of p's builds from history: the sum
// of expected durations (unknown ports take the median known one) spread
// over the workers, and never less than the longest single port.
func estimate(p *plan.Plan, exp map[string]time.Duration, workers int) time.Duration {
	var known []time.Duration
	for _, d := range exp {
		known = append(known, d)
	}
	slices.Sort(known)
	def := time.Duration(0)
	if len(known) > 0 {
		def = known[len(known)/2]
	}
	of := execute.ExpectedDurations(exp) // as apply's scheduler weighs ports
	var sum, longest time.Duration
	for i := range p.Ports {
		if p.Ports[i].Action != plan.ActionBuild {
			continue
		}
		d := of(p.Ports[i].ID)
		if d == 0 {
			d = def
		}
		sum += d
		longest = max(longest, d)
	}
	return max(sum/time.Duration(max(workers, 1)), longest)
}

// runItem plans (when needed) and applies one queued build.
func (ps *profileState) runItem(ctx context.Context, item *QueueItem) {
	s := ps.s
	f := item.plan
	if f == nil {
		var err error
		f, _, err = ps.planItem(ctx, item.Packages, item.Force, item.KeepGoing)
		if err != nil {
			s.publish(Event{Type: EvBuildFailed, Profile: ps.name, Data: map[string]any{"queue_id": item.ID, "error": err.Error()}})
			item.signal(startResult{err: err})
			return
		}
	}
	p := f.Plan()
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := &activeBuild{item: item, plan: p, workers: ps.workers(p), cancel: cancel, gate: execute.NewWorkerGate(),
		done: make(chan struct{})}
	b.tails = newTailers(s, ps.name, p.Settings.LogsDir)
	defer close(b.done)
	defer b.tails.stopAll()
	sess, err := execute.Open(p.Settings.BuildBase, func(m string) { s.log.Warn(m) })
	if err != nil {
		s.publish(Event{Type: EvBuildFailed, Profile: ps.name, Data: map[string]any{"queue_id": item.ID, "error": err.Error()}})
		item.signal(startResult{err: errf(http.StatusConflict, CodeConflict, err.Error())})
		return
	}
	ps.mu.Lock()
	ps.cur = b
	ps.mu.Unlock()
	defer func() {
		ps.mu.Lock()
		ps.cur = nil
		ps.mu.Unlock()
		s.metrics.setWorkers(0, 0, 0)
	}()
	// Released before the build is no longer current: once /status says
	// idle, the build base is free (a repository build may take it).
	defer sess.Close()
	o := execute.Options{Plan: f, Workers: b.workers, Isolator: s.cfg.NewIsolator(p),
		Gate: b.gate, Publisher: execute.PlanPublisher(p), Observers: []execute.Observer{func(e execute.Event) { ps.observe(b, e) }},
		Warn: func(m string) { s.log.Warn(m, "profile", ps.name) }}
	if item.verify {
		o.Verify = execute.VerifyPlan
	}
	sum, err := sess.Apply(bctx, o)
	if err != nil {
		var se *execute.StaleError
		if errors.As(err, &se) {
			err = errf(http.StatusConflict, CodeStalePlan, err.Error()).with("changes", se.Changes)
		}
		s.log.Error("build failed to run", "profile", ps.name, "err", err)
		if rid, _ := b.snapshot(); rid == "" {
			s.publish(Event{Type: EvBuildFailed, Profile: ps.name, Data: map[string]any{"queue_id": item.ID, "error": err.Error()}})
		}
		item.signal(startResult{err: err})
		return
	}
	s.log.Info("build finished", "profile", ps.name, "run", sum.RunID, "status", sum.Status)
}

// observe turns apply's events into API events, metrics and live state.
// It runs on apply's event goroutine and never blocks on clients.
func (ps *profileState) observe(b *activeBuild, e execute.Event) {
	s := ps.s
	b.mu.Lock()
	if e.Kind == execute.EventRunStart {
		b.runID = e.RunID
		b.status = execute.Status{RunID: e.RunID, PID: os.Getpid(), Start: e.Time, Total: e.Total}
		for w := 0; w < b.workers; w++ {
			b.status.Workers = append(b.status.Workers, execute.WorkerStatus{Worker: w})
		}
	}
	if e.Kind == execute.EventRunEnd {
		b.ended = true
	}
	st := &b.status
	st.Apply(e)
	busy := 0
	for _, w := range st.Workers {
		if w.Node != "" {
			busy++
		}
	}
	b.mu.Unlock()

	base := Event{Time: e.Time.UTC(), Profile: ps.name, RunID: e.RunID}
	pub := func(typ string, data map[string]any) {
		ev := base
		ev.Type, ev.Data = typ, data
		s.publish(ev)
	}
	progress := map[string]any{"kind": e.Kind, "node": e.Node, "worker": e.Worker, "phase": e.Phase,
		"done": e.Done, "total": e.Total, "counts": e.Count}
	if e.Reason != "" {
		progress["reason"] = e.Reason
	}
	if e.Duration > 0 {
		progress["duration_s"] = e.Duration.Seconds()
	}
	switch e.Kind {
	case execute.EventRunStart:
		b.item.signal(startResult{runID: e.RunID})
		pub(EvBuildStarted, map[string]any{"queue_id": b.item.ID, "total": e.Total, "workers": b.workers,
			"plan_digest": b.plan.Digest, "packages": append([]string{}, b.item.Packages...)})
		for w := 0; w < b.workers; w++ {
			pub(EvWorkerIdle, map[string]any{"worker": w})
		}
	case execute.EventStart:
		pub(EvBuildProgress, progress)
		pub(EvWorkerStatus, map[string]any{"worker": e.Worker, "node": e.Node, "phase": "start", "paused": b.gate.Paused(e.Worker), "throttled": b.gate.Throttled(e.Worker)})
		b.tails.start(e.RunID, e.Node)
	case execute.EventPhase:
		pub(EvBuildProgress, progress)
		pub(EvWorkerStatus, map[string]any{"worker": e.Worker, "node": e.Node, "phase": e.Phase, "paused": b.gate.Paused(e.Worker), "throttled": b.gate.Throttled(e.Worker)})
	case execute.EventBuilt, execute.EventFailed:
		pub(EvBuildProgress, progress)
		b.tails.stop(e.Node)
		if e.Worker >= 0 {
			pub(EvWorkerIdle, map[string]any{"worker": e.Worker, "last": e.Node, "paused": b.gate.Paused(e.Worker), "throttled": b.gate.Throttled(e.Worker)})
		}
	case execute.EventThrottle:
		// Dynamic throttling: every worker's state may have changed.
		for w := 0; w < b.workers; w++ {
			pub(EvWorkerThrottle, map[string]any{"worker": w, "throttled": w >= e.Allowed, "reason": e.Reason})
		}
	case execute.EventRepository:
		pub(EvRepository, map[string]any{"state": e.Reason})
	case execute.EventRunEnd:
		typ := EvBuildCompleted
		if e.Reason != record.RunSuccess {
			typ = EvBuildFailed
		}
		b.tails.stopAll()
		pub(typ, map[string]any{"status": e.Reason, "counts": e.Count, "duration_s": e.Duration.Seconds(),
			"done": e.Done, "total": e.Total})
	default:
		pub(EvBuildProgress, progress)
	}
	s.metrics.observe(b, e, busy)
}

// startBuild queues item and, when the profile's builder is free, waits
// until its run started. It returns the run id ("" when queued) and the
// queue position.
func (ps *profileState) startBuild(ctx context.Context, item *QueueItem, wait bool) (string, int, error) {
	item.started = make(chan startResult, 1)
	pos := ps.enqueue(item)
	if !wait {
		return "", pos, nil
	}
	t := time.NewTimer(2 * time.Minute)
	defer t.Stop()
	select {
	case r := <-item.started:
		return r.runID, 0, r.err
	case <-ctx.Done():
		return "", pos, nil
	case <-t.C:
		return "", pos, nil
	}
}

func newItem(r *http.Request, profile string, packages []string, force bool) *QueueItem {
	it := &QueueItem{ID: "q-" + uuid.NewString()[:8], Profile: profile, Packages: packages, Force: force, Queued: time.Now().UTC()}
	if k := caller(r); k != nil {
		it.By = k.Name
	}
	return it
}

// cancelRun interrupts the running build whose run id is id and waits
// until apply recorded it. ok is false when no such build runs.
func (s *Server) cancelRun(ctx context.Context, id string) (bool, error) {
	for _, name := range s.order {
		ps := s.profiles[name]
		b := ps.current()
		if b == nil {
			continue
		}
		rid, _ := b.snapshot()
		if rid == "" || (rid != id && !(len(id) >= 4 && len(rid) > len(id) && rid[:len(id)] == id)) {
			continue
		}
		b.cancel()
		select {
		case <-b.done:
			return true, nil
		case <-ctx.Done():
			return true, fmt.Errorf("cancel %s: %w", rid, ctx.Err())
		}
	}
	return false, nil
}
