package execute

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
