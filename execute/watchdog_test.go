package execute

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestIdleLimit(t *testing.T) {
	table := map[string]time.Duration{"build": 10 * time.Minute}
	for _, c := range []struct {
		name    string
		profile time.Duration
		table   map[string]time.Duration
		phase   string
		load    float64
		want    time.Duration
	}{
		{"profile wins", 3 * time.Minute, nil, "build", 9, 3 * time.Minute},
		{"default build", 0, nil, "build", 0, 120 * time.Minute},
		{"default check-sanity", 0, nil, "check-sanity", 0.5, 5 * time.Minute},
		{"unknown phase", 0, nil, "frobnicate", 0, fallbackIdle},
		{"scaled by load", 0, table, "build", 2.5, 25 * time.Minute},
		{"scale capped", 0, table, "build", 100, 80 * time.Minute},
		{"light load is not a cut", 0, table, "build", 0.2, 10 * time.Minute},
	} {
		got := idleLimit(c.profile, c.table, c.phase, func() float64 { return c.load })
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if hostLoadPerCPU() < 0 {
		t.Errorf("negative host load")
	}
}

// A phase that hangs without output ends by the default watchdog when the
// profile sets no idle_timeout, and the port fails saying so.
func TestDefaultWatchdogEndsAHungPhase(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "devel/hangs build")
	p.PkgNode = ""
	iso := newFake(p)
	iso.sleep = map[string]time.Duration{"devel/hangs": time.Hour}
	b := newBuilder(p, iso, nil)
	b.watchdogs = map[string]time.Duration{"build": 300 * time.Millisecond}
	b.loadPerCPU = func() float64 { return 0 }
	res := b.build(context.Background(), 0, b.nodes["devel/hangs"])
	if res.OK || res.Phase != "build" || !strings.Contains(res.Err, "watchdog: build phase printed nothing for 300ms") {
		t.Fatalf("outcome %+v", res.Outcome)
	}
	if res.End.Sub(res.Start) > 30*time.Second {
		t.Errorf("took %s", res.End.Sub(res.Start))
	}
}

// The status file's time moves while no event comes: a crashed run is
// ended at its last heartbeat, not at its last event.
func TestHeartbeatTouchesStatusFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsynth.status.json")
	l := &liveStatus{path: path}
	l.apply(Event{Kind: EventRunStart, Worker: -1, Time: time.Now()})
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	stop := l.heartbeat(10 * time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().After(old.Add(30 * time.Minute)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the heartbeat did not touch the status file")
		}
		runtime.Gosched()
	}
	stop()
	// After stop nothing touches it (and a removed file is not recreated).
	l.remove()
	l.touch()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("touch recreated the status file: %v", err)
	}
}

func TestThrottleRule(t *testing.T) {
	r := newThrottleRule(0, 0, 1<<30) // C dsynth's: load 1.5-5 per CPU, swap 10-40 %
	for _, c := range []struct {
		workers int
		s       hostSample
		want    int
		why     string
	}{
		{8, hostSample{LoadPerCPU: 1.0, MemAvail: -1}, 8, ""},
		{8, hostSample{LoadPerCPU: 1.5, MemAvail: -1}, 8, ""},
		{8, hostSample{LoadPerCPU: 5, MemAvail: -1}, 2, "load 5.0 per CPU"},
		{8, hostSample{LoadPerCPU: 9, MemAvail: -1}, 2, "load 9.0 per CPU"},
		{8, hostSample{LoadPerCPU: 3.25, MemAvail: -1}, 5, "load 3.2 per CPU"},
		{8, hostSample{SwapUsed: 25, MemAvail: -1}, 5, "swap 25% used"},
		{8, hostSample{SwapUsed: 5, MemAvail: 2 << 30}, 8, ""},
		{8, hostSample{MemAvail: 512 << 20}, 2, "512 MiB of memory available, below 1024 MiB"},
		{1, hostSample{LoadPerCPU: 50, MemAvail: -1}, 1, ""},
		{3, hostSample{LoadPerCPU: 50, MemAvail: -1}, 1, "load 50.0 per CPU"},
	} {
		n, why := r.allowed(c.workers, c.s)
		if n != c.want || why != c.why {
			t.Errorf("%d workers, %+v: %d %q, want %d %q", c.workers, c.s, n, why, c.want, c.why)
		}
	}
	if s := sampleHost(); s.LoadPerCPU < 0 || s.MemAvail == 0 {
		t.Errorf("host sample %+v", s)
	}
}

// Real memory pressure (min_free_memory above what the host has): a run
// of 4 workers builds with one at a time, and says so.
func TestApplyThrottledByMemory(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "devel/a build", "devel/b build", "devel/c build", "devel/d build")
	p.PkgNode = ""
	p.Settings.Workers.Count = 4
	p.Settings.Workers.NoThrottle = false
	p.Settings.Workers.MinFreeMemory = 1 << 50 // more than any host has
	iso := newFake(p)
	iso.sleep = map[string]time.Duration{"devel/a": 20 * time.Millisecond, "devel/b": 20 * time.Millisecond,
		"devel/c": 20 * time.Millisecond, "devel/d": 20 * time.Millisecond}
	var mu sync.Mutex
	active, most := 0, 0
	var throttles []string
	obs := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case EventStart:
			active++
			most = max(most, active)
		case EventBuilt, EventFailed:
			active--
		case EventThrottle:
			throttles = append(throttles, e.Reason)
		}
	}
	sum, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso, Workers: 4, Observers: []Observer{obs}})
	if err != nil || sum.Counts.Built != 4 {
		t.Fatalf("%+v %v", sum, err)
	}
	if most != 1 {
		t.Errorf("%d ports built at once under memory pressure, want 1", most)
	}
	if len(throttles) == 0 || !strings.Contains(throttles[0], "1 of 4 workers take ports") || !strings.Contains(throttles[0], "below") {
		t.Errorf("throttle events %q", throttles)
	}
}
