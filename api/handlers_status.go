package api

import (
	"net/http"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/record"
)

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request, _ params) error {
	type profStatus struct {
		Name    string          `json:"name"`
		State   string          `json:"state"`
		RunID   string          `json:"run_id,omitempty"`
		Live    *execute.Status `json:"live,omitempty"`
		Queued  int             `json:"queued"`
		LastRun *runView        `json:"last_run,omitempty"`
	}
	var out []profStatus
	runs, err := s.allRuns()
	if err != nil {
		return err
	}
	for _, name := range s.order {
		ps := s.profiles[name]
		st := profStatus{Name: name, State: "idle"}
		ps.mu.Lock()
		st.Queued = len(ps.queue)
		b := ps.cur
		ps.mu.Unlock()
		if b != nil {
			rid, live := b.snapshot()
			st.State, st.RunID, st.Live = "building", rid, &live
		} else if ext := ps.external(); ext != nil {
			st.State, st.RunID, st.Live = "building", ext.RunID, ext
		}
		for _, run := range runs {
			if run.ProfileName == name && run.ID != st.RunID {
				v := s.viewRun(run)
				st.LastRun = &v
				break
			}
		}
		out = append(out, st)
	}
	s.writeData(w, r, http.StatusOK, map[string]any{"profiles": out, "version": s.cfg.Version})
	return nil
}

// hourBucket counts port builds finished in one hour.
type hourBucket struct {
	Hour    time.Time `json:"hour"`
	Success int       `json:"success"`
	Failed  int       `json:"failed"`
}

func (s *Server) stats(since time.Time) (map[string]any, error) {
	var runs []*record.Run
	var atts []*record.Attempt
	err := s.eachDB(func(_ *profileState, db *record.DB) error {
		r, err := db.RunSummaries()
		if err != nil {
			return err
		}
		runs = append(runs, r...)
		a, err := db.AttemptsSince(since)
		atts = append(atts, a...)
		return err
	})
	if err != nil {
		return nil, err
	}
	st := record.ComputeStats(runs, atts, since, 10)
	// Builds per hour over the last 24 hours.
	now := time.Now().UTC().Truncate(time.Hour)
	hours := make([]hourBucket, 24)
	for i := range hours {
		hours[i].Hour = now.Add(time.Duration(i-23) * time.Hour)
	}
	for _, a := range atts {
		if a.End.IsZero() || (a.Status != record.AttemptSuccess && a.Status != record.AttemptFailed) {
			continue
		}
		k := int(a.End.UTC().Truncate(time.Hour).Sub(hours[0].Hour) / time.Hour)
		if k < 0 || k >= len(hours) {
			continue
		}
		if a.Status == record.AttemptSuccess {
			hours[k].Success++
		} else {
			hours[k].Failed++
		}
	}
	return map[string]any{"stats": st, "per_hour": hours}, nil
}

func (s *Server) getStats(w http.ResponseWriter, r *http.Request, _ params) error {
	since, err := parseSince(r.URL.Query().Get("since"))
	if err != nil {
		return err
	}
	out, err := s.stats(since)
	if err != nil {
		return err
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) getStatsToday(w http.ResponseWriter, r *http.Request, _ params) error {
	out, err := s.stats(time.Now().UTC().Truncate(24 * time.Hour))
	if err != nil {
		return err
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) getStatsPackage(w http.ResponseWriter, r *http.Request, p params) error {
	pi, err := s.packageInfo(p["origin"])
	if err != nil {
		return err
	}
	var runs []*record.Run
	st := record.ComputeStats(runs, pi.history, time.Time{}, 5)
	var last time.Duration
	for i := len(pi.history) - 1; i >= 0; i-- {
		if a := pi.history[i]; a.Status == record.AttemptSuccess && a.Duration() > 0 {
			last = a.Duration()
			break
		}
	}
	s.writeData(w, r, http.StatusOK, map[string]any{"origin": pi.Origin, "attempts": st.Attempts, "success": st.Success,
		"failed": st.Failed, "skipped": st.Skipped, "success_rate": st.SuccessRate,
		"average_build_s": st.AverageBuild.Seconds(), "last_success_s": last.Seconds(), "slowest": st.Slowest})
	return nil
}
