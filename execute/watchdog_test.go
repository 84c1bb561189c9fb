package execute

import (
	"context"
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
