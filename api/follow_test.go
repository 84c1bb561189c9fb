package api

import (
	"context"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/internal/buildtest"
	"github.com/go-dsynth/dsynth/record"
)

// TestServeFollowsCLIRuns: a run that serve did not start (a CLI apply on
// the same build base: an execute.Session) shows in /status,
// /workers and the event stream while it goes, with the run's own
// counts, and its end is published.
func TestServeFollowsCLIRuns(t *testing.T) {
	needRoot(t)
	ts := newTestServer(t, serverOpts{targets: `["devel/libmini"]`, workers: 2})
	el := dialEvents(t, ts, "read")
	el.wait(t, 5*time.Second, 0, "hello", func(e Event) bool { return e.Type == "hello" })

	p, sess := cliRun(t, ts)
	// Worker 1 is held: the run builds pkg on worker 0, then waits.
	gate := execute.NewWorkerGate()
	gate.Pause(1)
	done := make(chan *execute.Summary, 1)
	firstBuilt := make(chan struct{})
	go func() {
		held := false
		sum, err := sess.Apply(context.Background(), execute.Options{Plan: buildtest.PlanFile(t, p), Isolator: execute.SlotIsolator(execute.SlotLayout(p)),
			Gate: gate, Observers: []execute.Observer{func(e execute.Event) {
				if e.Kind == execute.EventBuilt && !held {
					held = true
					gate.Pause(0) // libmini waits until the test has looked
					close(firstBuilt)
				}
			}}})
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	<-firstBuilt
	i, started := el.wait(t, 10*time.Second, 0, "build.started of the CLI run", func(e Event) bool { return e.Type == EvBuildStarted })
	runID := started.RunID
	_, prog := el.wait(t, 10*time.Second, i, "progress 1 of 2", func(e Event) bool {
		return e.Type == EvBuildProgress && e.RunID == runID && dataOf(e)["done"] == 1.0
	})
	if dataOf(prog)["total"] != 2.0 {
		t.Errorf("progress %v", dataOf(prog))
	}
	var st struct {
		Profiles []struct {
			State string          `json:"state"`
			RunID string          `json:"run_id"`
			Live  *execute.Status `json:"live"`
		} `json:"profiles"`
	}
	ts.mustOK("GET", "/api/v1/status", "read", nil, 200).data(t, &st)
	if len(st.Profiles) != 1 || st.Profiles[0].State != "building" || st.Profiles[0].RunID != runID ||
		st.Profiles[0].Live == nil || st.Profiles[0].Live.Done != 1 || st.Profiles[0].Live.Counts.Built != 1 {
		t.Fatalf("status during the CLI run: %+v", st)
	}
	var ws []workerView
	ts.mustOK("GET", "/api/v1/workers", "read", nil, 200).data(t, &ws)
	if len(ws) < 1 || ws[0].RunID != runID || ws[0].Built != 1 {
		t.Errorf("workers during the CLI run: %+v", ws)
	}
	gate.Resume(0)
	gate.Resume(1)
	sum := <-done
	if sum == nil || sum.Status != record.RunSuccess {
		t.Fatalf("CLI run: %+v", sum)
	}
	_, end := el.wait(t, 10*time.Second, i, "build.completed of the CLI run", func(e Event) bool {
		return e.Type == EvBuildCompleted && e.RunID == runID
	})
	if c, _ := dataOf(end)["counts"].(map[string]any); c["built"] != 2.0 {
		t.Errorf("end %v", dataOf(end))
	}
	ts.mustOK("GET", "/api/v1/status", "read", nil, 200).data(t, &st)
	if st.Profiles[0].State != "idle" {
		t.Errorf("status after the CLI run: %+v", st)
	}
}
