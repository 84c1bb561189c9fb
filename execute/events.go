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

// Apply folds event e into s: the one status reducer behind the live
// status file, `dsynth status`, the API and the dashboard.
func (s *Status) Apply(e Event) {
	if e.Kind == EventRunStart {
		if s.RunID == "" {
			s.RunID = e.RunID
		}
		if s.Start.IsZero() {
			s.Start = e.Time
		}
	}
	s.Updated, s.Done, s.Total, s.Counts = e.Time, e.Done, e.Total, e.Count
	set := func(ws WorkerStatus) {
		for i := range s.Workers {
			if s.Workers[i].Worker == ws.Worker {
				s.Workers[i] = ws
				return
			}
		}
		s.Workers = append(s.Workers, ws)
		sort.Slice(s.Workers, func(a, b int) bool { return s.Workers[a].Worker < s.Workers[b].Worker })
	}
	switch e.Kind {
	case EventStart:
		set(WorkerStatus{Worker: e.Worker, Node: e.Node, Phase: "start", Since: e.Time})
	case EventPhase:
		since := e.Time
		for _, w := range s.Workers {
			if w.Worker == e.Worker && w.Node == e.Node {
				since = w.Since // the port's start, not the phase's
			}
		}
		set(WorkerStatus{Worker: e.Worker, Node: e.Node, Phase: e.Phase, Since: since})
	case EventBuilt, EventFailed:
		if e.Worker >= 0 {
			set(WorkerStatus{Worker: e.Worker})
		}
	case EventThrottle:
		s.Throttle = e.Reason
		if !strings.Contains(e.Reason, "(") { // back to every worker
			s.Throttle = ""
		}
	}
}

func (l *liveStatus) apply(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.s.Apply(e)
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
