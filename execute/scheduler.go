package execute

import (
	"container/heap"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Job is one port for the scheduler.
type Job struct {
	ID string
	// Deps are the jobs that must succeed before this one starts. IDs that
	// are not jobs are taken as already satisfied.
	Deps []string
	// Weight is the expected duration (0: unknown).
	Weight time.Duration
}

// Outcome is the result of running a job.
type Outcome struct {
	OK bool
	// Phase is the phase that failed ("" when OK).
	Phase string
	// Err says why the job failed.
	Err string
	// Interrupted is true when the job was stopped by cancellation.
	Interrupted bool
}

// JobState is the final state of a job after Schedule returns.
type JobState int

const (
	// JobNotStarted: the run was stopped before the job could start.
	JobNotStarted JobState = iota
	JobSucceeded
	JobFailed
	// JobSkipped: a dependency failed (Result.Reason has the chain).
	JobSkipped
	// JobInterrupted: the job was running when the run was stopped.
	JobInterrupted
)

// Result is the final state of one job.
type Result struct {
	State   JobState
	Outcome Outcome
	// Reason is the skip chain for skipped jobs.
	Reason string
	Worker int
}

// Hooks are called by Schedule from its own goroutine (never concurrently).
type Hooks struct {
	// Start is called when id is handed to worker.
	Start func(worker int, id string)
	// Done is called when id finished on worker.
	Done func(worker int, id string, o Outcome)
	// Skip is called for each job skipped because of a failed dependency.
	Skip func(id, reason string)
	// Gate, when set, keeps paused workers from taking jobs.
	Gate *WorkerGate
}

// RunFunc runs job id on worker (0-based). It must return when ctx ends.
type RunFunc func(ctx context.Context, worker int, id string) Outcome

// Schedule runs jobs on workers parallel workers: a job starts as soon as
// all its dependencies succeeded, no worker idles while a job is ready,
// and ready jobs are taken by decreasing priority: the longest chain of
// expected durations from the job to the end of the graph (through its
// dependents). A failed job makes every job depending on it, transitively,
// skipped with the chain in its reason. When ctx ends no more jobs start;
// Schedule waits for the running ones (whose ctx is ctx) and returns.
//
// Jobs whose weights are unknown get the median known weight, or 1 when
// none is known, so the priority falls back to a port count.
func Schedule(ctx context.Context, jobs []Job, workers int, run RunFunc, h Hooks) (map[string]*Result, error) {
	if workers < 1 {
		workers = 1
	}
	g, err := newGraph(jobs)
	if err != nil {
		return nil, err
	}
	res := make(map[string]*Result, len(jobs))
	for _, j := range jobs {
		res[j.ID] = &Result{State: JobNotStarted, Worker: -1}
	}
	type done struct {
		worker int
		idx    int
		o      Outcome
	}
	doneCh := make(chan done)
	idle := make([]int, 0, workers)
	for w := workers - 1; w >= 0; w-- {
		idle = append(idle, w) // pop from the end: worker 0 first
	}
	ready := &readyHeap{g: g}
	for i := range g.jobs {
		if g.pending[i] == 0 {
			heap.Push(ready, i)
		}
	}
	running := 0
	stopped := false
	for {
		for !stopped && ctx.Err() == nil && ready.Len() > 0 && len(idle) > 0 {
			w := h.Gate.pick(&idle)
			if w < 0 {
				break
			}
			i := heap.Pop(ready).(int)
			id := g.jobs[i].ID
			res[id].Worker = w
			if h.Start != nil {
				h.Start(w, id)
			}
			running++
			go func() { doneCh <- done{w, i, run(ctx, w, id)} }()
		}
		if running == 0 && (stopped || ctx.Err() != nil || ready.Len() == 0) {
			break
		}
		var d done
		select {
		case d = <-doneCh:
		case <-h.Gate.woken():
			continue
		case <-ctx.Done():
			stopped = true
			if running == 0 {
				continue
			}
			d = <-doneCh
		}
		running--
		idle = append(idle, d.worker)
		id := g.jobs[d.idx].ID
		r := res[id]
		r.Outcome = d.o
		if h.Done != nil {
			h.Done(d.worker, id, d.o)
		}
		switch {
		case d.o.OK:
			r.State = JobSucceeded
			for _, k := range g.dependents[d.idx] {
				g.pending[k]--
				if g.pending[k] == 0 && res[g.jobs[k].ID].State == JobNotStarted {
					heap.Push(ready, k)
				}
			}
		case d.o.Interrupted || ctx.Err() != nil:
			r.State = JobInterrupted
		default:
			r.State = JobFailed
			g.skipDependents(d.idx, d.o, res, h)
		}
	}
	return res, nil
}

// SkipReason is the text recorded for a port skipped because failed
// failed in phase; via lists the ports between failed and the skipped one.
func SkipReason(failed, phase string, via []string) string {
	s := "skipped: " + failed + " failed"
	if phase != "" {
		s += " in " + phase + " phase"
	}
	if len(via) > 0 {
		s += " (needed by " + strings.Join(via, " -> ") + ")"
	}
	return s
}

// graph is the indexed job graph.
type graph struct {
	jobs       []Job
	dependents [][]int
	pending    []int
	prio       []time.Duration
}

func newGraph(jobs []Job) (*graph, error) {
	g := &graph{jobs: jobs, dependents: make([][]int, len(jobs)), pending: make([]int, len(jobs)), prio: make([]time.Duration, len(jobs))}
	idx := make(map[string]int, len(jobs))
	for i, j := range jobs {
		if _, dup := idx[j.ID]; dup {
			return nil, fmt.Errorf("schedule: duplicate job %s", j.ID)
		}
		idx[j.ID] = i
	}
	for i, j := range jobs {
		seen := map[int]bool{}
		for _, d := range j.Deps {
			k, ok := idx[d]
			if !ok || seen[k] {
				continue
			}
			seen[k] = true
			g.dependents[k] = append(g.dependents[k], i)
			g.pending[i]++
		}
	}
	// Default weight: the median known one.
	var known []time.Duration
	for _, j := range jobs {
		if j.Weight > 0 {
			known = append(known, j.Weight)
		}
	}
	def := time.Duration(1)
	if len(known) > 0 {
		sort.Slice(known, func(a, b int) bool { return known[a] < known[b] })
		def = known[len(known)/2]
	}
	// Priorities in reverse topological order (Kahn's algorithm).
	order := make([]int, 0, len(jobs))
	pend := append([]int(nil), g.pending...)
	for i := range jobs {
		if pend[i] == 0 {
			order = append(order, i)
		}
	}
	for n := 0; n < len(order); n++ {
		for _, k := range g.dependents[order[n]] {
			pend[k]--
			if pend[k] == 0 {
				order = append(order, k)
			}
		}
	}
	if len(order) != len(jobs) {
		var cyc []string
		for i := range jobs {
			if pend[i] > 0 {
				cyc = append(cyc, jobs[i].ID)
			}
		}
		return nil, fmt.Errorf("schedule: dependency cycle among %s", strings.Join(cyc, ", "))
	}
	for n := len(order) - 1; n >= 0; n-- {
		i := order[n]
		w := jobs[i].Weight
		if w <= 0 {
			w = def
		}
		var best time.Duration
		for _, k := range g.dependents[i] {
			best = max(best, g.prio[k])
		}
		g.prio[i] = w + best
	}
	return g, nil
}

// skipDependents marks every transitive dependent of failed job f skipped,
// breadth first, so each reason names the shortest chain.
func (g *graph) skipDependents(f int, o Outcome, res map[string]*Result, h Hooks) {
	failed := g.jobs[f].ID
	type item struct {
		i   int
		via []string
	}
	queue := []item{{f, nil}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		for _, k := range g.dependents[it.i] {
			r := res[g.jobs[k].ID]
			if r.State != JobNotStarted {
				continue
			}
			r.State = JobSkipped
			r.Reason = SkipReason(failed, o.Phase, it.via)
			if h.Skip != nil {
				h.Skip(g.jobs[k].ID, r.Reason)
			}
			via := append(append([]string(nil), it.via...), g.jobs[k].ID)
			queue = append(queue, item{k, via})
		}
	}
}

// readyHeap orders ready jobs by priority (largest first), then ID.
type readyHeap struct {
	g *graph
	s []int
}

func (r *readyHeap) Len() int { return len(r.s) }
func (r *readyHeap) Less(a, b int) bool {
	pa, pb := r.g.prio[r.s[a]], r.g.prio[r.s[b]]
	if pa != pb {
		return pa > pb
	}
	return r.g.jobs[r.s[a]].ID < r.g.jobs[r.s[b]].ID
}
func (r *readyHeap) Swap(a, b int) { r.s[a], r.s[b] = r.s[b], r.s[a] }
func (r *readyHeap) Push(x any)    { r.s = append(r.s, x.(int)) }
func (r *readyHeap) Pop() any {
	x := r.s[len(r.s)-1]
	r.s = r.s[:len(r.s)-1]
	return x
}
