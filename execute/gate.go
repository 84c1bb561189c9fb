package execute

import "sync"

// WorkerGate pauses and resumes workers of a running Apply (for `dsynth
// serve`): a paused worker finishes the port it is building and takes no
// new one until it is resumed. The zero value is not usable; use
// NewWorkerGate. A nil *WorkerGate pauses nothing.
type WorkerGate struct {
	mu     sync.Mutex
	paused map[int]bool
	wake   chan struct{}
	// limit, when > 0, is how many workers may take ports (dynamic
	// throttling): workers limit and up are throttled.
	limit int
}

// NewWorkerGate returns a gate with every worker running.
func NewWorkerGate() *WorkerGate {
	return &WorkerGate{paused: map[int]bool{}, wake: make(chan struct{}, 1)}
}

// Pause stops worker w (0-based) from taking new ports.
func (g *WorkerGate) Pause(w int) {
	g.mu.Lock()
	g.paused[w] = true
	g.mu.Unlock()
}

// Resume lets worker w take ports again.
func (g *WorkerGate) Resume(w int) {
	g.mu.Lock()
	delete(g.paused, w)
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// Paused reports whether worker w is paused.
func (g *WorkerGate) Paused(w int) bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused[w]
}

// setLimit lets only workers 0..n-1 take new ports (n <= 0: all).
func (g *WorkerGate) setLimit(n int) {
	g.mu.Lock()
	g.limit = n
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// Throttled reports whether worker w is held back by dynamic throttling.
func (g *WorkerGate) Throttled(w int) bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit > 0 && w >= g.limit
}

// woken is signalled when a worker is resumed (nil for a nil gate, which
// blocks forever in a select).
func (g *WorkerGate) woken() <-chan struct{} {
	if g == nil {
		return nil
	}
	return g.wake
}

// pick removes from idle the last worker that is not paused and returns
// it, or -1 when every idle worker is paused.
func (g *WorkerGate) pick(idle *[]int) int {
	s := *idle
	for k := len(s) - 1; k >= 0; k-- {
		if !g.Paused(s[k]) && !g.Throttled(s[k]) {
			w := s[k]
			*idle = append(s[:k], s[k+1:]...)
			return w
		}
	}
	return -1
}
