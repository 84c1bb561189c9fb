package execute

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/dsynth/record"
)

// Event kinds.
const (
	EventRunStart = "run-start"
	EventStart    = "start"  // a port started on a worker
	EventPhase    = "phase"  // a port entered a phase
	EventBuilt    = "built"  // a port built successfully
	EventFailed   = "failed" // a port failed
	EventSkipped  = "skipped"
	EventIgnored  = "ignored"
	EventUpToDate = "up-to-date"
	EventRunEnd   = "run-end"
	// EventThrottle: dynamic throttling changed how many workers take
	// ports (Done holds that number, Reason says why).
	EventThrottle = "throttle"
	// EventRepository: the package repository is being built after the
	// ports (Reason "building"), then published (Reason "ok") or not
	// (Reason "failed: why").
	EventRepository = "repository"
)

// Event is one thing that happened during a run. Observers receive events
// in order from a single goroutine.
type Event struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	RunID  string    `json:"run_id"`
	Node   string    `json:"node,omitempty"`
	Worker int       `json:"worker"`
	Phase  string    `json:"phase,omitempty"`
	// Reason is the failure message, skip chain or ignore text.
	Reason   string        `json:"reason,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Allowed is, for a throttle event, how many workers take ports.
	Allowed int `json:"allowed,omitempty"`
	// Done counts finished ports (any outcome) of Total.
	Done  int           `json:"done"`
	Total int           `json:"total"`
	Count record.Counts `json:"counts"`
}

// Observer receives events.
type Observer func(Event)

// WorkerStatus is one worker in the live status.
type WorkerStatus struct {
	Worker int       `json:"worker"`
	Node   string    `json:"node,omitempty"`
	Phase  string    `json:"phase,omitempty"`
	Since  time.Time `json:"since,omitzero"`
}

// Status is the live state of a running apply, kept in
// <build_base>/dsynth.status.json (replaced atomically on every event) so
// that readers never touch the records database's lock for it.
type Status struct {
	RunID   string         `json:"run_id"`
	PID     int            `json:"pid"`
	Start   time.Time      `json:"start"`
	Updated time.Time      `json:"updated"`
	Done    int            `json:"done"`
	Total   int            `json:"total"`
	Counts  record.Counts  `json:"counts"`
	Workers []WorkerStatus `json:"workers"`
	// Throttle says how many workers take ports when dynamic throttling
	// holds some back ("" when none is).
	Throttle string `json:"throttle,omitempty"`
}

// StatusFile is the live status file of a build base.
func StatusFile(buildBase string) string { return filepath.Join(buildBase, "dsynth.status.json") }

// ReadStatus reads the live status of a build base.
func ReadStatus(buildBase string) (*Status, error) {
	b, err := os.ReadFile(StatusFile(buildBase))
	if err != nil {
		return nil, err
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("status %s: %w", StatusFile(buildBase), err)
	}
	return &s, nil
}

// liveStatus maintains Status and writes it.
type liveStatus struct {
	mu   sync.Mutex
	path string
	s    Status
}

func (l *liveStatus) apply(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.s.Updated, l.s.Done, l.s.Total, l.s.Counts = e.Time, e.Done, e.Total, e.Count
	set := func(ws WorkerStatus) {
		for i := range l.s.Workers {
			if l.s.Workers[i].Worker == ws.Worker {
				l.s.Workers[i] = ws
				return
			}
		}
		l.s.Workers = append(l.s.Workers, ws)
		sort.Slice(l.s.Workers, func(a, b int) bool { return l.s.Workers[a].Worker < l.s.Workers[b].Worker })
	}
	switch e.Kind {
	case EventStart:
		set(WorkerStatus{Worker: e.Worker, Node: e.Node, Phase: "start", Since: e.Time})
	case EventPhase:
		for i := range l.s.Workers {
			if l.s.Workers[i].Worker == e.Worker {
				l.s.Workers[i].Phase = e.Phase
			}
		}
	case EventBuilt, EventFailed:
		if e.Worker >= 0 {
			set(WorkerStatus{Worker: e.Worker})
		}
	case EventThrottle:
		l.s.Throttle = e.Reason
		if !strings.Contains(e.Reason, "(") { // back to every worker
			l.s.Throttle = ""
		}
	}
	if l.path == "" {
		return
	}
	b, _ := json.MarshalIndent(&l.s, "", "  ")
	tmp := l.path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, l.path)
	}
}

// heartbeatEvery is how often a running apply touches its status file.
const heartbeatEvery = 2 * time.Second

// heartbeat touches the status file every d until the returned stop is
// called.
func (l *liveStatus) heartbeat(d time.Duration) (stop func()) { return every(d, l.touch) }

// every calls fn every d from a goroutine of its own until the returned
// stop is called; stop returns once fn is no longer running.
func every(d time.Duration, fn func()) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		tk := time.NewTicker(d)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				fn()
			}
		}
	}()
	return func() { close(done); <-exited }
}

// touch sets the status file's time to now.
func (l *liveStatus) touch() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.path != "" {
		now := time.Now()
		os.Chtimes(l.path, now, now)
	}
}

func (l *liveStatus) remove() {
	if l.path != "" {
		os.Remove(l.path)
	}
}
