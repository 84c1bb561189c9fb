package portscan

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
)

// ErrMissingPort is returned by a Loader when the origin has no port
// directory (no Makefile).
var ErrMissingPort = errors.New("no such port")

// Port is what a Loader found for one port and flavor.
type Port struct {
	Origin string
	// Flavor is the flavor scanned: the requested one, or the default
	// (first of Flavors) for a scan without FLAVOR; "" for unflavored ports.
	Flavor  string
	Flavors []string
	// Deps are the dependencies, in variable order.
	Deps []Dep
	// Data is the Loader's payload, passed through untouched.
	Data any
}

// FromTarget names, in an error's "needed by" list, the profile's targets
// (rather than a dependency of another port).
const FromTarget = "a profile target"

// ID is the node ID: origin, or origin@flavor for flavored ports.
func (p *Port) ID() string {
	if p.Flavor == "" {
		return p.Origin
	}
	return p.Origin + "@" + p.Flavor
}

// Loader loads one port. flavor "" asks for the default flavor; the
// returned Port must then have Flavor set to Flavors[0] (or "" if the port
// has no flavors). It runs in a worker goroutine, concurrently with other
// loads; it returns an error wrapping ErrMissingPort for a missing port.
type Loader func(ctx context.Context, origin, flavor string) (*Port, error)

// AllFlavors as a Ref's flavor (origin@all) stands for every flavor of
// the port (the port itself when it has none).
const AllFlavors = "all"

// Config configures Walk.
type Config struct {
	// Jobs is the number of concurrent loads (default runtime.NumCPU()).
	Jobs int
	Load Loader
	// SkipRoot, when set, drops a root once its node is known (origin
	// and resolved flavor): the node is still walked when another port
	// depends on it.
	SkipRoot func(origin, flavor string) bool
}

// Error is a problem found while walking: a missing port, a failed load
// (make failure), or an unknown flavor. Walk collects all of them.
type Error struct {
	// Ref is the port (and flavor) concerned.
	Ref Ref
	// Kind is ErrMissingPort, ErrUnknownFlavor, or ErrLoad.
	Kind error
	// From lists who needs Ref: "node-id (VAR)" or FromTarget.
	From []string
	Err  error
}

// Sentinels for Error.Kind.
var (
	ErrUnknownFlavor = errors.New("unknown flavor")
	ErrLoad          = errors.New("scan failed")
)

func (e *Error) Error() string {
	s := e.Reason()
	if len(e.From) > 0 {
		s += ", needed by " + strings.Join(e.From, ", ")
	}
	return s
}

// ID is the node ID the error stands for in the graph: the origin when
// the port could not be loaded at all, origin@flavor for a flavor that
// could not be loaded or does not exist. Result.DepIDs names it.
func (e *Error) ID() string { return e.Ref.String() }

// Reason is Error without the "needed by" list.
func (e *Error) Reason() string {
	var b strings.Builder
	switch e.Kind {
	case ErrMissingPort:
		fmt.Fprintf(&b, "missing port %s", e.Ref.Origin)
	case ErrUnknownFlavor:
		fmt.Fprintf(&b, "unknown flavor %q of %s", e.Ref.Flavor, e.Ref.Origin)
		if e.Err != nil {
			fmt.Fprintf(&b, " (%v)", e.Err)
		}
	default:
		fmt.Fprintf(&b, "%s: %v", e.Ref, e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Result is the outcome of Walk.
type Result struct {
	// Ports holds every node of the closure by ID.
	Ports map[string]*Port
	// Roots are the node IDs of the targets, sorted.
	Roots []string
	// DepIDs maps a node ID to its dependencies resolved to node IDs, in
	// the order of Port.Deps (same length). A dependency that could not
	// be loaded or names an unknown flavor is the ID of its Errors entry
	// (Error.ID), which is not in Ports.
	DepIDs map[string][]string
	// Errors are all problems found, sorted by port.
	Errors []*Error
	// Loads is the number of Loader calls.
	Loads int
}

type waiter struct {
	flavor string
	from   string // "node (VAR)" or FromTarget
	root   bool
}

type originState struct {
	known   bool
	failed  bool
	flavors []string
	def     *Port // result of the scan without FLAVOR
	waiting []waiter
}

type job struct{ origin, flavor string }

type result struct {
	job  job
	port *Port
	err  error
}

// Walk scans the closure of roots and returns every node, all errors, or
// ctx's error when cancelled.
func Walk(ctx context.Context, cfg Config, roots []Ref) (*Result, error) {
	n := cfg.Jobs
	if n <= 0 {
		n = runtime.NumCPU()
	}
	w := &walker{
		origins: map[string]*originState{},
		nodes:   map[string]*Port{},
		queued:  map[string]bool{},
		roots:   map[string]bool{},
		flavErr: map[Ref]*Error{},
		skip:    cfg.SkipRoot,
	}
	for _, r := range roots {
		w.need(r, FromTarget, true)
	}

	jobs := make(chan job)
	results := make(chan result)
	for i := 0; i < n; i++ {
		go func() {
			for j := range jobs {
				p, err := cfg.Load(ctx, j.origin, j.flavor)
				results <- result{job: j, port: p, err: err}
			}
		}()
	}
	inflight := 0
	cancelled := false
	done := ctx.Done()
	for len(w.queue) > 0 || inflight > 0 {
		var send chan job
		var next job
		if len(w.queue) > 0 && !cancelled {
			send, next = jobs, w.queue[0]
		}
		if cancelled && inflight == 0 {
			break
		}
		select {
		case send <- next:
			w.queue[0] = job{}
			w.queue = w.queue[1:]
			inflight++
			w.loads++
		case r := <-results:
			inflight--
			w.handle(r)
		case <-done:
			cancelled, done = true, nil
		}
	}
	close(jobs)
	if cancelled || ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return w.finish(), nil
}

type walker struct {
	origins map[string]*originState
	nodes   map[string]*Port
	queued  map[string]bool // node IDs dispatched with an explicit flavor
	roots   map[string]bool
	queue   []job
	errs    []*Error
	flavErr map[Ref]*Error
	loads   int
	skip    func(origin, flavor string) bool
}

func (w *walker) need(r Ref, from string, root bool) {
	st := w.origins[r.Origin]
	if st == nil {
		st = &originState{}
		w.origins[r.Origin] = st
		w.queue = append(w.queue, job{origin: r.Origin})
	}
	if st.failed {
		return
	}
	if !st.known {
		st.waiting = append(st.waiting, waiter{flavor: r.Flavor, from: from, root: root})
		return
	}
	w.resolve(st, r, from, root)
}

// canonical returns the node ID of r once its origin's flavors are known.
func canonical(st *originState, r Ref) (string, bool) {
	if len(st.flavors) == 0 {
		if r.Flavor != "" {
			return "", false
		}
		return r.Origin, true
	}
	f := r.Flavor
	if f == "" {
		f = st.flavors[0]
	}
	for _, x := range st.flavors {
		if x == f {
			return r.Origin + "@" + f, true
		}
	}
	return "", false
}

func (w *walker) resolve(st *originState, r Ref, from string, root bool) {
	if r.Flavor == AllFlavors {
		if len(st.flavors) == 0 {
			w.resolve(st, Ref{Origin: r.Origin}, from, root)
		}
		for _, f := range st.flavors {
			w.resolve(st, Ref{Origin: r.Origin, Flavor: f}, from, root)
		}
		return
	}
	id, ok := canonical(st, r)
	if !ok {
		e := w.flavErr[r]
		if e == nil {
			detail := fmt.Errorf("%s has no flavors", r.Origin)
			if len(st.flavors) > 0 {
				detail = fmt.Errorf("FLAVORS is %s", strings.Join(st.flavors, " "))
			}
			e = &Error{Ref: r, Kind: ErrUnknownFlavor, Err: detail}
			w.flavErr[r] = e
			w.errs = append(w.errs, e)
		}
		e.From = append(e.From, from)
		return
	}
	if root && w.skip != nil && w.skip(r.Origin, strings.TrimPrefix(id[len(r.Origin):], "@")) {
		return
	}
	if root {
		w.roots[id] = true
	}
	if w.nodes[id] != nil || w.queued[id] {
		return
	}
	if st.def != nil && st.def.ID() == id {
		w.add(st.def)
		return
	}
	w.queued[id] = true
	w.queue = append(w.queue, job{origin: r.Origin, flavor: id[len(r.Origin)+1:]})
}

func (w *walker) add(p *Port) {
	id := p.ID()
	w.nodes[id] = p
	for _, d := range p.Deps {
		w.need(d.Ref, id+" ("+d.Var+")", false)
	}
}

func (w *walker) handle(r result) {
	st := w.origins[r.job.origin]
	if r.err != nil {
		kind := ErrLoad
		if errors.Is(r.err, ErrMissingPort) {
			kind = ErrMissingPort
		}
		e := &Error{Ref: Ref{Origin: r.job.origin, Flavor: r.job.flavor}, Kind: kind, Err: r.err}
		if r.job.flavor == "" {
			st.failed = true
			for _, wt := range st.waiting {
				if wt.root {
					e.From = append(e.From, FromTarget)
				}
			}
			st.waiting = nil
		}
		w.errs = append(w.errs, e)
		return
	}
	p := r.port
	if r.job.flavor != "" {
		w.add(p)
		return
	}
	st.known = true
	st.flavors = p.Flavors
	st.def = p
	ws := st.waiting
	st.waiting = nil
	for _, wt := range ws {
		w.resolve(st, Ref{Origin: r.job.origin, Flavor: wt.flavor}, wt.from, wt.root)
	}
	if w.nodes[p.ID()] != nil {
		st.def = nil // in the graph now; no need to keep a second reference
	}
}

func (w *walker) finish() *Result {
	res := &Result{Ports: w.nodes, DepIDs: make(map[string][]string, len(w.nodes)), Loads: w.loads}
	failedFrom := map[string][]string{}
	for id, p := range w.nodes {
		ids := make([]string, len(p.Deps))
		for i, d := range p.Deps {
			st := w.origins[d.Ref.Origin]
			if st.failed {
				failedFrom[d.Ref.Origin] = append(failedFrom[d.Ref.Origin], id+" ("+d.Var+")")
				ids[i] = d.Ref.Origin
				continue
			}
			c, ok := canonical(st, d.Ref)
			if !ok {
				ids[i] = d.Ref.String() // an unknown flavor's Error.ID
				continue
			}
			if w.nodes[c] == nil {
				failedFrom[c] = append(failedFrom[c], id+" ("+d.Var+")")
			}
			ids[i] = c
		}
		res.DepIDs[id] = ids
	}
	for id := range w.roots {
		if w.nodes[id] != nil {
			res.Roots = append(res.Roots, id)
		}
	}
	sort.Strings(res.Roots)
	for _, e := range w.errs {
		if e.Kind != ErrUnknownFlavor {
			e.From = append(e.From, failedFrom[e.Ref.String()]...)
			if e.Ref.Flavor != "" && w.roots[e.Ref.String()] {
				e.From = append(e.From, FromTarget)
			}
		}
		sort.Strings(e.From)
		e.From = slices.Compact(e.From)
	}
	sort.SliceStable(w.errs, func(i, j int) bool {
		a, b := w.errs[i], w.errs[j]
		if a.Ref.String() != b.Ref.String() {
			return a.Ref.String() < b.Ref.String()
		}
		return a.Kind.Error() < b.Kind.Error()
	})
	res.Errors = w.errs
	return res
}
