package api

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/dsynth/execute"
)

// Event types of the /api/v1/events stream.
const (
	EvBuildStarted   = "build.started"
	EvBuildProgress  = "build.progress"
	EvBuildCompleted = "build.completed"
	EvBuildFailed    = "build.failed"
	EvWorkerStatus   = "worker.status"
	EvWorkerIdle     = "worker.idle"
	EvWorkerThrottle = "worker.throttle"
	EvRepository     = "repository.status"
	EvLogLine        = "log.line"
	EvSystemLoad     = "system.load"
)

// Event is one message of the event stream.
type Event struct {
	Type    string    `json:"type"`
	Time    time.Time `json:"timestamp"`
	Profile string    `json:"profile,omitempty"`
	RunID   string    `json:"run_id,omitempty"`
	Data    any       `json:"data"`
	// Seq numbers the events of a server from 1, in publication order.
	Seq int64 `json:"seq"`
}

// subBuffer is how many events a client may lag behind before it is
// dropped.
const subBuffer = 512

// subscriber is one event stream client.
type subscriber struct {
	ch chan Event
	// gone is closed when the hub dropped the client (too slow or closed).
	gone chan struct{}

	mu   sync.Mutex
	logs map[string]bool // run ids whose log lines the client wants
}

func (s *subscriber) wantsLog(runID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs[runID]
}

func (s *subscriber) subscribeLogs(runID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.logs[runID] = true
	} else {
		delete(s.logs, runID)
	}
}

// hub fans events out to subscribers. publish never blocks: a client
// whose buffer is full is dropped.
type hub struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
	last   time.Time
	seq    int64
}

func newHub() *hub { return &hub{subs: map[*subscriber]struct{}{}} }

// subscribe adds a client. first (if any) are queued for it before any
// published event: the connection's greeting.
func (h *hub) subscribe(first ...Event) *subscriber {
	s := &subscriber{ch: make(chan Event, subBuffer), gone: make(chan struct{}), logs: map[string]bool{}}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.gone)
		return s
	}
	h.subs[s] = struct{}{}
	for _, e := range first {
		h.stamp(&e)
		h.deliver(s, e)
	}
	return s
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.gone)
	}
}

func (h *hub) publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stamp(&e)
	h.seq++
	e.Seq = h.seq
	for s := range h.subs {
		if e.Type == EvLogLine && !s.wantsLog(e.RunID) {
			continue
		}
		h.deliver(s, e)
	}
}

// sendTo queues an event for one client only (hello, subscription
// acknowledgements): it takes its timestamp from the hub like every other
// event, so that a client's events stay in time order, and has no Seq.
func (h *hub) sendTo(s *subscriber, e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; !ok {
		return
	}
	h.stamp(&e)
	h.deliver(s, e)
}

// stamp sets e's timestamp (h.mu held). Events reach clients in the order
// the hub stamps them, and their timestamps follow that order (apply's
// events come from several goroutines). The comparison is on the wall
// clock (Round(0) drops the monotonic reading): that is what clients see,
// and the wall clock can step back (NTP) while the monotonic clock goes
// on.
func (h *hub) stamp(e *Event) {
	e.Time = time.Now().Round(0).UTC()
	if e.Time.Before(h.last) {
		e.Time = h.last
	}
	h.last = e.Time
}

// deliver queues e for s without waiting (h.mu held): a client whose
// buffer is full is dropped.
func (h *hub) deliver(s *subscriber, e Event) {
	select {
	case s.ch <- e:
	default:
		delete(h.subs, s)
		close(s.gone)
	}
}

// wantsLogs reports whether any client subscribed to log lines.
func (h *hub) wantsLogs() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		n := len(s.logs)
		s.mu.Unlock()
		if n > 0 {
			return true
		}
	}
	return false
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.gone)
	}
}

func (s *Server) publish(e Event) { s.hub.publish(e) }

// tailers follow the logs of the ports a build is building and publish
// their lines as log.line events.
type tailers struct {
	s       *Server
	profile string
	dir     string
	mu      sync.Mutex
	stops   map[string]func()
	wg      sync.WaitGroup
}

func newTailers(s *Server, profile, logsDir string) *tailers {
	return &tailers{s: s, profile: profile, dir: logsDir, stops: map[string]func(){}}
}

// start follows node's log (named by apply from the node id, in the
// profile's logs_dir).
func (t *tailers) start(runID, node string) {
	startAt := time.Now().Add(-10 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	end := make(chan struct{})
	t.mu.Lock()
	if old := t.stops[node]; old != nil {
		old()
	}
	t.stops[node] = func() { close(end) }
	t.mu.Unlock()
	path := filepath.Join(t.dir, execute.LogName(node))
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer cancel()
		n := 0
		followFile(ctx, path, startAt, end, 100*time.Millisecond, func(line string) {
			n++
			if t.s.hub.wantsLogs() {
				t.s.publish(Event{Type: EvLogLine, Profile: t.profile, RunID: runID,
					Data: map[string]any{"node": node, "n": n, "line": line}})
			}
		})
	}()
}

// stop ends node's tail after it read the log to its end.
func (t *tailers) stop(node string) {
	t.mu.Lock()
	f := t.stops[node]
	delete(t.stops, node)
	t.mu.Unlock()
	if f != nil {
		f()
	}
}

func (t *tailers) stopAll() {
	t.mu.Lock()
	for n, f := range t.stops {
		f()
		delete(t.stops, n)
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// followFile calls fn with each line of the file at path, following it as
// it grows, until end is closed (then it reads what is left and returns)
// or ctx ends. A file that does not exist yet, or was last written before
// notBefore (the log of an earlier build, about to be truncated), is
// waited for.
func followFile(ctx context.Context, path string, notBefore time.Time, end <-chan struct{}, poll time.Duration, fn func(string)) {
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	var r *bufio.Reader
	var partial strings.Builder
	drain := func() {
		for {
			s, err := r.ReadString('\n')
			partial.WriteString(s)
			if err != nil {
				return
			}
			fn(strings.TrimRight(partial.String(), "\r\n"))
			partial.Reset()
		}
	}
	for {
		ended := false
		select {
		case <-ctx.Done():
			return
		case <-end:
			ended = true
		default:
		}
		if f == nil {
			var err error
			if f, err = os.Open(path); err == nil {
				if st, err := f.Stat(); err != nil || st.ModTime().Before(notBefore) {
					f.Close()
					f = nil
				} else {
					r = bufio.NewReaderSize(f, 64<<10)
				}
			} else {
				f = nil
			}
		}
		if f != nil {
			drain()
		}
		if ended {
			if partial.Len() > 0 {
				fn(partial.String())
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-end:
		case <-time.After(poll):
		}
	}
}

// loadLoop publishes system.load events.
func (s *Server) loadLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.LoadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.publish(Event{Type: EvSystemLoad, Data: s.systemLoad()})
	}
}

func (s *Server) systemLoad() map[string]any {
	d := map[string]any{"cpus": runtime.NumCPU(), "goroutines": runtime.NumGoroutine()}
	if f, err := os.Open("/proc/loadavg"); err == nil {
		b, _ := io.ReadAll(io.LimitReader(f, 256))
		f.Close()
		fs := strings.Fields(string(b))
		if len(fs) >= 3 {
			var la []float64
			for _, x := range fs[:3] {
				v, _ := strconv.ParseFloat(x, 64)
				la = append(la, v)
			}
			d["loadavg"] = la
		}
	}
	busy, queued := 0, 0
	for _, name := range s.order {
		ps := s.profiles[name]
		ps.mu.Lock()
		queued += len(ps.queue)
		cur := ps.cur
		ps.mu.Unlock()
		if cur != nil {
			_, st := cur.snapshot()
			for _, w := range st.Workers {
				if w.Node != "" {
					busy++
				}
			}
		}
	}
	d["busy_workers"], d["queued"] = busy, queued
	return d
}
