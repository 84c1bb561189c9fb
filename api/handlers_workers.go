package api

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/go-dsynth/dsynth/record"
)

// workerView is one worker of a profile.
type workerView struct {
	ID      int    `json:"id"`
	Profile string `json:"profile"`
	RunID   string `json:"run_id,omitempty"`
	State   string `json:"state"` // building, idle, paused, throttled
	Paused  bool   `json:"paused"`
	// Throttled: dynamic throttling holds the worker back (load, swap or
	// memory); it finishes its port and takes no new one.
	Throttled bool   `json:"throttled"`
	Node      string `json:"node,omitempty"`
	Phase     string `json:"phase,omitempty"`
	// Last is the last port an idle worker of a finished run built.
	Last   string    `json:"last,omitempty"`
	Since  time.Time `json:"since,omitzero"`
	Built  int       `json:"built"`
	Failed int       `json:"failed"`
}

func (s *Server) workersOf(ps *profileState) ([]workerView, error) {
	var out []workerView
	var runID string
	b := ps.current()
	if b != nil {
		rid, st := b.snapshot()
		runID = rid
		for _, ws := range st.Workers {
			v := workerView{ID: ws.Worker, Profile: ps.name, RunID: rid, State: "idle", Node: ws.Node, Phase: ws.Phase, Since: ws.Since}
			if ws.Node != "" {
				v.State = "building"
			}
			if v.Paused = b.gate.Paused(ws.Worker); v.Paused && ws.Node == "" {
				v.State = "paused"
			}
			if v.Throttled = b.gate.Throttled(ws.Worker); v.Throttled && !v.Paused && ws.Node == "" {
				v.State = "throttled"
			}
			out = append(out, v)
		}
	} else if ext := ps.external(); ext != nil {
		runID = ext.RunID
		for _, ws := range ext.Workers {
			v := workerView{ID: ws.Worker, Profile: ps.name, RunID: runID, State: "idle", Node: ws.Node, Phase: ws.Phase, Since: ws.Since}
			if ws.Node != "" {
				v.State = "building"
			}
			out = append(out, v)
		}
	}
	// Totals (and workers of the last run when none runs) from the records.
	err := withDB(ps, func(db *record.DB) error {
		if runID == "" {
			runs, err := db.RunSummaries()
			if err != nil {
				return err
			}
			for i := len(runs) - 1; i >= 0; i-- {
				if runs[i].ProfileName == ps.name {
					runID = runs[i].ID
					break
				}
			}
			if runID == "" {
				return nil
			}
		}
		ws, err := db.RunWorkers(runID)
		if err != nil {
			return err
		}
		for _, rw := range ws {
			found := false
			for i := range out {
				if out[i].ID == rw.Worker {
					out[i].Built, out[i].Failed, found = rw.Built, rw.Failed, true
				}
			}
			if !found && b == nil {
				v := workerView{ID: rw.Worker, Profile: ps.name, RunID: runID, State: "idle",
					Last: rw.NodeID, Since: rw.Since, Built: rw.Built, Failed: rw.Failed}
				if rw.State == "building" { // a crashed run's last word
					v.Node, v.Last = rw.NodeID, ""
				}
				out = append(out, v)
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func (s *Server) listWorkers(w http.ResponseWriter, r *http.Request, _ params) error {
	var names []string
	if pn := r.URL.Query().Get("profile"); pn != "" {
		if _, err := s.profileParam(pn); err != nil {
			return err
		}
		names = []string{pn}
	} else {
		names = s.order
	}
	out := []workerView{}
	for _, n := range names {
		ws, err := s.workersOf(s.profiles[n])
		if err != nil {
			return err
		}
		out = append(out, ws...)
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

// worker resolves /workers/{id} (?profile= selects the profile).
func (s *Server) worker(r *http.Request, p params) (*profileState, workerView, error) {
	ps, err := s.profileParam(r.URL.Query().Get("profile"))
	if err != nil {
		return nil, workerView{}, err
	}
	id, err := strconv.Atoi(p["id"])
	if err != nil || id < 0 {
		return nil, workerView{}, errf(http.StatusBadRequest, CodeBadRequest, "a worker id is a number from 0")
	}
	ws, err := s.workersOf(ps)
	if err != nil {
		return nil, workerView{}, err
	}
	for _, v := range ws {
		if v.ID == id {
			return ps, v, nil
		}
	}
	return nil, workerView{}, errf(http.StatusNotFound, CodeWorkerNotFound, fmt.Sprintf("profile %s has no worker %d", ps.name, id))
}

func (s *Server) getWorker(w http.ResponseWriter, r *http.Request, p params) error {
	_, v, err := s.worker(r, p)
	if err != nil {
		return err
	}
	s.writeData(w, r, http.StatusOK, v)
	return nil
}

func (s *Server) workerLog(w http.ResponseWriter, r *http.Request, p params) error {
	ps, v, err := s.worker(r, p)
	if err != nil {
		return err
	}
	if v.RunID == "" {
		return errf(http.StatusNotFound, CodeLogNotFound, fmt.Sprintf("worker %d has built nothing yet", v.ID))
	}
	// The port the worker is building, else the last one it built (or
	// tried to) in its run.
	want := v.Node
	if want == "" {
		want = v.Last
	}
	var at *record.Attempt
	if err := withDB(ps, func(db *record.DB) error {
		atts, err := db.RunAttempts(v.RunID)
		for _, a := range atts {
			if a.Worker != v.ID || a.LogPath == "" {
				continue
			}
			if a.NodeID == want {
				at = a
				break
			}
			if want == "" && (at == nil || !a.Start.Before(at.Start)) {
				at = a
			}
		}
		return err
	}); err != nil {
		return err
	}
	if at == nil {
		return errf(http.StatusNotFound, CodeLogNotFound, fmt.Sprintf("worker %d has built nothing yet", v.ID))
	}
	text, err := readLog(ps, at, 64<<10)
	if err != nil {
		return err
	}
	s.writeData(w, r, http.StatusOK, map[string]any{"worker": v.ID, "node": at.NodeID, "attempt_id": at.ID,
		"status": at.Status, "log": text})
	return nil
}
