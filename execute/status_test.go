package execute

import (
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/record"
)

// TestStatusApply: the one status reducer, over a run's events.
func TestStatusApply(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var s Status
	for _, e := range []Event{
		{Kind: EventRunStart, RunID: "r", Time: at(0), Total: 3, Worker: -1},
		{Kind: EventStart, Node: "a", Worker: 1, Time: at(1), Total: 3},
		{Kind: EventStart, Node: "b", Worker: 0, Time: at(2), Total: 3},
		{Kind: EventPhase, Node: "a", Worker: 1, Phase: "build", Time: at(3), Total: 3},
		{Kind: EventBuilt, Node: "b", Worker: 0, Time: at(4), Done: 1, Total: 3, Count: record.Counts{Built: 1}},
		{Kind: EventThrottle, Worker: -1, Reason: "1 of 2 workers take ports (load 9.0 per CPU)", Time: at(5), Done: 1, Total: 3, Count: record.Counts{Built: 1}},
	} {
		s.Apply(e)
	}
	want := []WorkerStatus{{Worker: 0}, {Worker: 1, Node: "a", Phase: "build", Since: at(1)}}
	if s.RunID != "r" || !s.Start.Equal(at(0)) || !s.Updated.Equal(at(5)) || s.Done != 1 || s.Total != 3 || s.Counts.Built != 1 ||
		len(s.Workers) != 2 || s.Workers[0] != want[0] || s.Workers[1] != want[1] || s.Throttle == "" {
		t.Fatalf("status %+v", s)
	}
	s.Apply(Event{Kind: EventThrottle, Worker: -1, Reason: "every worker takes ports", Time: at(6)})
	if s.Throttle != "" {
		t.Errorf("throttle not lifted: %q", s.Throttle)
	}
}
