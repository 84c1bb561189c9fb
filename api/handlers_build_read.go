package api

import (
	"fmt"
	"net/http"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/runreport"
	"github.com/go-dsynth/dsynth/record"
)

// runView is a run without its plan bytes, with its live progress.
type runView struct {
	*record.Run
	Plan      *struct{}       `json:"plan,omitempty"`
	DurationS float64         `json:"duration_s"`
	Live      *execute.Status `json:"live,omitempty"`
	Paused    []int           `json:"paused_workers,omitempty"`
}

func (s *Server) viewRun(r *record.Run) runView {
	v := runView{Run: r, DurationS: r.Duration().Seconds()}
	if ps := s.profiles[r.ProfileName]; ps != nil && r.Status == record.RunRunning {
		if b := ps.current(); b != nil {
			if rid, st := b.snapshot(); rid == r.ID {
				v.Live = &st
				for w := 0; w < b.workers; w++ {
					if b.gate.Paused(w) {
						v.Paused = append(v.Paused, w)
					}
				}
			}
		}
	}
	return v
}

func (s *Server) listBuilds(w http.ResponseWriter, r *http.Request, _ params) error {
	pg, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	since, err := parseSince(q.Get("since"))
	if err != nil {
		return err
	}
	status, prof := q.Get("status"), q.Get("profile")
	if prof != "" {
		if _, err := s.profileParam(prof); err != nil {
			return err
		}
	}
	runs, err := s.allRuns()
	if err != nil {
		return err
	}
	var out []runView
	for _, run := range runs {
		if (status != "" && run.Status != status) || (prof != "" && run.ProfileName != prof) || run.Start.Before(since) {
			continue
		}
		out = append(out, s.viewRun(run))
	}
	lo, hi := pg.slice(len(out))
	s.writePage(w, r, nonNil(out[lo:hi]), pg, len(out))
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// nodeResult is one planned port next to what happened to it.
type nodeResult struct {
	Node      string  `json:"node"`
	Planned   string  `json:"planned"`
	Reason    string  `json:"reason,omitempty"`
	Status    string  `json:"status,omitempty"`
	AttemptID string  `json:"attempt_id,omitempty"`
	Worker    int     `json:"worker"`
	DurationS float64 `json:"duration_s,omitempty"`
	LastPhase string  `json:"last_phase,omitempty"`
	Error     string  `json:"error,omitempty"`
	PkgFile   string  `json:"pkgfile,omitempty"`
	Host      string  `json:"host,omitempty"`
	Match     bool    `json:"as_planned"`
}

func (s *Server) getBuild(w http.ResponseWriter, r *http.Request, p params) error {
	run, err := s.findRun(p["id"])
	if err != nil {
		return err
	}
	var atts []*record.Attempt
	if err := s.eachDB(func(_ *profileState, db *record.DB) error {
		if atts != nil {
			return nil
		}
		a, err := db.RunAttempts(run.ID)
		if len(a) > 0 {
			atts = a
		}
		return err
	}); err != nil {
		return err
	}
	f, err := s.runPlan(run)
	if err != nil {
		return fmt.Errorf("plan of run %s: %w", run.ID, err)
	}
	var pl *plan.Plan
	if f != nil {
		pl = f.Plan()
	}
	rep := runreport.Compare(run, pl, atts, nil)
	nodes := []nodeResult{}
	for _, pt := range rep.Ports {
		nr := nodeResult{Node: pt.Node, Planned: pt.PlannedAction, Reason: pt.Reason, Worker: pt.Worker,
			AttemptID: pt.AttemptID, DurationS: pt.Actual.Seconds(), LastPhase: pt.LastPhase, Error: pt.Detail,
			PkgFile: pt.PkgFile, Host: pt.Host, Match: pt.AsPlanned}
		if pt.Outcome != runreport.NotRun {
			nr.Status = pt.Outcome
		}
		nodes = append(nodes, nr)
	}
	sum := rep.Planned
	s.writeData(w, r, http.StatusOK, map[string]any{"build": s.viewRun(run), "planned": sum,
		"actual": run.Counts, "ports": nonNil(nodes)})
	return nil
}
