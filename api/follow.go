package api

import (
	"context"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/record"
)

// followEvery is how often serve looks at a build base for a run it did
// not start (a CLI apply, a replay).
const followEvery = 250 * time.Millisecond

// external returns the live status of a run on ps's build base that this
// server did not start (nil when there is none).
func (ps *profileState) external() *execute.Status {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.ext == nil {
		return nil
	}
	st := *ps.ext
	st.Workers = append([]execute.WorkerStatus(nil), st.Workers...)
	return &st
}

// follow watches ps's build base for runs another process (dsynth apply,
// replay) makes there, from the live status file that process keeps and
// the build-base lock it holds, and publishes them as the events of a
// build of this server: the dashboard and /status show every run of the
// build base, whoever started it.
func (ps *profileState) follow(ctx context.Context) {
	t := time.NewTicker(followEvery)
	defer t.Stop()
	base := ps.profile().BuildBase
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var st *execute.Status
		if ps.current() == nil {
			if s, err := execute.ReadStatus(base); err == nil {
				if pid, live, err := execute.RunningHere(base); err == nil && live && pid == s.PID {
					st = s
				}
			}
		}
		ps.mu.Lock()
		prev := ps.ext
		ps.ext = st
		ps.mu.Unlock()
		ps.publishDiff(prev, st)
	}
}

// publishDiff publishes what changed between two snapshots of an
// external run.
func (ps *profileState) publishDiff(prev, cur *execute.Status) {
	s := ps.s
	pub := func(runID, typ string, data map[string]any) {
		s.publish(Event{Time: time.Now().UTC(), Profile: ps.name, RunID: runID, Type: typ, Data: data})
	}
	if prev != nil && (cur == nil || cur.RunID != prev.RunID) {
		// The run ended: its outcome from the records.
		status, counts := record.RunInterrupted, prev.Counts
		withDB(ps, func(db *record.DB) error {
			if r, err := db.Run(prev.RunID); err == nil {
				status, counts = r.Status, r.Counts
			}
			return nil
		})
		typ := EvBuildCompleted
		if status != record.RunSuccess {
			typ = EvBuildFailed
		}
		pub(prev.RunID, typ, map[string]any{"status": status, "counts": counts, "done": prev.Total, "total": prev.Total, "external": true})
		prev = nil
	}
	if cur == nil {
		return
	}
	if prev == nil {
		pub(cur.RunID, EvBuildStarted, map[string]any{"total": cur.Total, "workers": len(cur.Workers), "external": true, "packages": []string{}})
	}
	if prev == nil || prev.Done != cur.Done || prev.Counts != cur.Counts {
		pub(cur.RunID, EvBuildProgress, map[string]any{"kind": "progress", "done": cur.Done, "total": cur.Total, "counts": cur.Counts})
	}
	was := map[int]execute.WorkerStatus{}
	if prev != nil {
		for _, w := range prev.Workers {
			was[w.Worker] = w
		}
	}
	for _, w := range cur.Workers {
		p, seen := was[w.Worker]
		switch {
		case w.Node != "" && (!seen || p.Node != w.Node || p.Phase != w.Phase):
			pub(cur.RunID, EvWorkerStatus, map[string]any{"worker": w.Worker, "node": w.Node, "phase": w.Phase, "paused": false, "throttled": false})
		case w.Node == "" && (!seen || p.Node != ""):
			pub(cur.RunID, EvWorkerIdle, map[string]any{"worker": w.Worker, "last": p.Node, "paused": false, "throttled": false})
		}
	}
}
