package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
)

// BuildRequest is the JSON body of POST /builds, POST /queue and POST
// /plans.
type BuildRequest struct {
	Profile  string   `json:"profile"`
	Packages []string `json:"packages"`
	Force    bool     `json:"force"`
	// KeepGoing: a target that cannot be planned is a failed node of the
	// plan instead of an error (plan -keep-going).
	KeepGoing bool `json:"keep_going"`
}

// decodeJSON decodes r's JSON body (bounded by limitBody) into v. An
// empty body leaves v as it is (the defaults).
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyError(err)
		}
		if errors.Is(err, io.EOF) {
			return nil // an empty body means the defaults
		}
		// A body over the limit is "too large" even when its start is
		// not JSON: read on (at most up to the limit) to tell.
		if _, cerr := io.Copy(io.Discard, r.Body); errors.As(cerr, &mbe) {
			return bodyError(cerr)
		}
		return errf(http.StatusBadRequest, CodeBadRequest, "invalid JSON body: "+jsonError(err))
	}
	if dec.More() {
		return errf(http.StatusBadRequest, CodeBadRequest, "invalid JSON body: trailing data")
	}
	return nil
}

func (s *Server) buildRequest(r *http.Request) (*BuildRequest, *profileState, error) {
	var req BuildRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, nil, err
	}
	ps, err := s.profileParam(req.Profile)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range req.Packages {
		if err := checkOrigin(p); err != nil {
			return nil, nil, errf(http.StatusBadRequest, CodeBadRequest, `package "`+excerpt(p)+`": origin must be category/port[@flavor]`)
		}
	}
	return &req, ps, nil
}

// buildResponse is the answer of POST /builds.
type buildResponse struct {
	QueueID        string   `json:"queue_id"`
	RunID          string   `json:"run_id,omitempty"`
	Status         string   `json:"status"` // running or queued
	Profile        string   `json:"profile"`
	PlanDigest     string   `json:"plan_digest,omitempty"`
	PackagesQueued int      `json:"packages_queued"`
	Planned        int      `json:"planned,omitempty"`
	EstimatedS     *float64 `json:"estimated_duration_s,omitempty"`
	Position       int      `json:"position,omitempty"`
}

func (s *Server) postBuild(w http.ResponseWriter, r *http.Request, _ params) error {
	if isPlanUpload(r) {
		return s.postPlanFile(w, r)
	}
	req, ps, err := s.buildRequest(r)
	if err != nil {
		return err
	}
	item := newItem(r, ps.name, req.Packages, req.Force)
	item.KeepGoing = req.KeepGoing
	return s.startRequest(w, r, ps, item)
}

// startRequest plans item right away when its profile's builder is free
// (so that the answer carries the run id, the package count and the
// estimate) or queues it to be planned when its turn comes.
func (s *Server) startRequest(w http.ResponseWriter, r *http.Request, ps *profileState, item *QueueItem) error {
	ps.mu.Lock()
	free := (ps.cur == nil || ps.cur.finishing()) && len(ps.queue) == 0 && !ps.planning
	if free {
		ps.planning, item.planner = true, true
	}
	ps.mu.Unlock()
	if !free {
		return s.queueItem(w, r, ps, item)
	}
	f, est, err := ps.planItem(r.Context(), item.Packages, item.Force, item.KeepGoing)
	if err != nil {
		ps.mu.Lock()
		ps.planning = false
		ps.mu.Unlock()
		select { // let the queue go on
		case ps.wake <- struct{}{}:
		default:
		}
		return err
	}
	item.plan = f
	// Enqueuing it (first) ends the planning.
	return s.startPlanned(w, r, ps, item, est)
}

// queueItem queues item to be planned and built when its turn comes. A
// preliminary plan (from a snapshot of the records: a running build is not
// held up) gives the answer's package count and estimate, and refuses a
// request that cannot be planned. The build is planned again when its
// turn comes: the running build changes what is up to date.
func (s *Server) queueItem(w http.ResponseWriter, r *http.Request, ps *profileState, item *QueueItem) error {
	f, est, err := ps.planItem(r.Context(), item.Packages, item.Force, item.KeepGoing)
	if err != nil {
		return err
	}
	p := f.Plan()
	e := est.Seconds()
	resp := buildResponse{QueueID: item.ID, Profile: ps.name, Status: "queued",
		PackagesQueued: plan.Summarize(p).Build, Planned: len(p.Ports), EstimatedS: &e}
	_, resp.Position, _ = ps.startBuild(r.Context(), item, false)
	s.writeData(w, r, http.StatusAccepted, resp)
	return nil
}

func (s *Server) startPlanned(w http.ResponseWriter, r *http.Request, ps *profileState, item *QueueItem, est time.Duration) error {
	p := item.plan.Plan()
	sum := plan.Summarize(p)
	e := est.Seconds()
	resp := buildResponse{QueueID: item.ID, Profile: ps.name, PlanDigest: p.Digest, PackagesQueued: sum.Build,
		Planned: len(p.Ports), EstimatedS: &e, Status: "queued"}
	runID, pos, err := ps.startBuild(context.WithoutCancel(r.Context()), item, true)
	if err != nil {
		return err
	}
	resp.RunID, resp.Position = runID, pos
	code := http.StatusAccepted
	if runID != "" {
		resp.Status, code = "running", http.StatusCreated
		w.Header().Set("Location", Prefix+"/builds/"+runID)
	}
	s.writeData(w, r, code, resp)
	return nil
}

// postPlanFile starts a build of an uploaded plan file (any body that is
// not JSON). The plan's pinned inputs are verified before it is applied.
func (s *Server) postPlanFile(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	f, err := planfile.Decode(bytes.Clone(body))
	if err != nil {
		// The decoder's messages may quote the file (JSON errors, node
		// names): the answer holds an excerpt.
		msg := err.Error()
		if !errors.Is(err, planfile.ErrInvalid) {
			msg = "invalid plan file: " + msg
		}
		return errf(http.StatusBadRequest, CodeBadRequest, excerptMessage(msg))
	}
	p := f.Plan()
	ps := s.profiles[p.Settings.Name]
	if ps == nil {
		return errf(http.StatusNotFound, CodeProfileNotFound, "the plan's profile "+excerpt(p.Settings.Name)+" is not served")
	}
	// The plan's profile says what the slots mount and where packages go:
	// it must be the served one (the targets aside: plans of some ports
	// are fine), or an uploaded plan could mount any host folder.
	if !planfile.SameSettings(&p.Settings, ptr(plan.SettingsOf(ps.profile()))) {
		return errf(http.StatusConflict, CodeConflict, "the plan's profile differs from the served profile "+ps.name+
			" (another version of the profile file, or another profile): plan it again")
	}
	item := newItem(r, ps.name, nil, false)
	item.plan, item.verify, item.Uploaded = f, true, true
	s.plans.put(f)
	var est time.Duration
	if err := withDB(ps, func(db *record.DB) error {
		exp, err := db.ExpectedDurations()
		est = estimate(p, exp, ps.workers(p))
		return err
	}); err != nil {
		return err
	}
	return s.startPlanned(w, r, ps, item, est)
}

func (s *Server) cancelBuild(w http.ResponseWriter, r *http.Request, p params) error {
	id := p["id"]
	// A queued build is dropped from the queue.
	for _, name := range s.order {
		if it, ok := s.profiles[name].remove(id); ok {
			s.writeData(w, r, http.StatusOK, map[string]any{"queue_id": it.ID, "status": "removed"})
			return nil
		}
	}
	run, err := s.findRun(id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 90*time.Second)
	defer cancel()
	ok, err := s.cancelRun(ctx, run.ID)
	if err != nil {
		return err
	}
	if !ok {
		return errf(http.StatusConflict, CodeBuildNotRunning, "build "+run.ID+" is not running (status "+run.Status+")")
	}
	run, err = s.findRun(run.ID)
	if err != nil {
		return err
	}
	s.writeData(w, r, http.StatusOK, s.viewRun(run))
	return nil
}

func (s *Server) retryBuild(w http.ResponseWriter, r *http.Request, p params) error {
	run, err := s.findRun(p["id"])
	if err != nil {
		return err
	}
	if run.Status == record.RunRunning {
		return errf(http.StatusConflict, CodeConflict, "build "+run.ID+" is still running")
	}
	ps := s.profiles[run.ProfileName]
	if ps == nil {
		return errf(http.StatusNotFound, CodeProfileNotFound, "the build's profile "+run.ProfileName+" is not served")
	}
	var retry []string
	seen := map[string]bool{}
	if err := withDB(ps, func(db *record.DB) error {
		atts, err := db.RunAttempts(run.ID)
		for _, a := range atts {
			if (a.Status == record.AttemptFailed || a.Status == record.AttemptInterrupted ||
				(a.Status == record.AttemptSkipped && a.Action == string(plan.ActionBuild))) && !seen[a.NodeID] {
				seen[a.NodeID] = true
				retry = append(retry, a.NodeID)
			}
		}
		return err
	}); err != nil {
		return err
	}
	if len(retry) == 0 {
		return errf(http.StatusConflict, CodeConflict, "build "+run.ID+" has no failed port to retry")
	}
	// The retried ports are built again even when an interrupted forced
	// build left an up-to-date package behind.
	item := newItem(r, ps.name, retry, true)
	item.RetryOf = run.ID
	return s.startRequest(w, r, ps, item)
}

func (s *Server) getQueue(w http.ResponseWriter, r *http.Request, _ params) error {
	type profQueue struct {
		Profile string       `json:"profile"`
		Running *QueueItem   `json:"running,omitempty"`
		RunID   string       `json:"run_id,omitempty"`
		Queued  []*QueueItem `json:"queued"`
	}
	var out []profQueue
	for _, name := range s.order {
		ps := s.profiles[name]
		ps.mu.Lock()
		q := profQueue{Profile: name, Queued: append([]*QueueItem{}, ps.queue...)}
		b := ps.cur
		ps.mu.Unlock()
		if b != nil {
			q.Running = b.item
			q.RunID, _ = b.snapshot()
		}
		out = append(out, q)
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) postQueue(w http.ResponseWriter, r *http.Request, _ params) error {
	req, ps, err := s.buildRequest(r)
	if err != nil {
		return err
	}
	item := newItem(r, ps.name, req.Packages, req.Force)
	item.KeepGoing = req.KeepGoing
	return s.queueItem(w, r, ps, item)
}

func (s *Server) deleteQueue(w http.ResponseWriter, r *http.Request, p params) error {
	for _, name := range s.order {
		ps := s.profiles[name]
		if it, ok := ps.remove(p["id"]); ok {
			s.writeData(w, r, http.StatusOK, map[string]any{"queue_id": it.ID, "status": "removed"})
			return nil
		}
		if b := ps.current(); b != nil && b.item.ID == p["id"] {
			rid, _ := b.snapshot()
			return errf(http.StatusConflict, CodeConflict, "queue item "+excerpt(p["id"])+" is running as build "+rid+": cancel it with DELETE /builds/"+rid)
		}
	}
	return errf(http.StatusNotFound, CodeQueueNotFound, "no queued build "+excerpt(p["id"]))
}

func (s *Server) postPlan(w http.ResponseWriter, r *http.Request, _ params) error {
	req, ps, err := s.buildRequest(r)
	if err != nil {
		return err
	}
	f, est, err := ps.planItem(r.Context(), req.Packages, req.Force, req.KeepGoing)
	if err != nil {
		return err
	}
	s.plans.put(f)
	sum := plan.Summarize(f.Plan())
	s.writeData(w, r, http.StatusCreated, map[string]any{"digest": f.Digest(), "profile": ps.name,
		"summary": sum, "summary_text": sum.String(), "estimated_duration_s": est.Seconds(), "plan": json.RawMessage(f.Bytes())})
	return nil
}

func (s *Server) getPlan(w http.ResponseWriter, r *http.Request, p params) error {
	d := p["digest"]
	sp := s.plans.get(d)
	if sp == nil {
		runs, err := s.allRuns()
		if err != nil {
			return err
		}
		for _, run := range runs {
			if run.PlanDigest == d {
				f, err := s.runPlan(run)
				if err != nil {
					return err
				}
				if f != nil {
					sp = f
					break
				}
			}
		}
	}
	if sp == nil {
		return errf(http.StatusNotFound, CodePlanNotFound, "no plan with digest "+excerpt(d))
	}
	if r.URL.Query().Get("format") == "graph" {
		var buf bytes.Buffer
		if err := plan.RenderGraphJSON(&buf, sp.Plan()); err != nil {
			return err
		}
		s.writeData(w, r, http.StatusOK, map[string]any{"digest": d, "graph": json.RawMessage(buf.Bytes())})
		return nil
	}
	sum := plan.Summarize(sp.Plan())
	s.writeData(w, r, http.StatusOK, map[string]any{"digest": d, "summary": sum, "plan": json.RawMessage(sp.Bytes())})
	return nil
}

func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, p params, pause bool) error {
	ps, err := s.profileParam(r.URL.Query().Get("profile"))
	if err != nil {
		return err
	}
	id, err := strconv.Atoi(p["id"])
	if err != nil || id < 0 {
		return errf(http.StatusBadRequest, CodeBadRequest, "a worker id is a number from 0")
	}
	b := ps.current()
	if b == nil {
		return errf(http.StatusConflict, CodeBuildNotRunning, "profile "+ps.name+" runs no build: workers exist only during a build")
	}
	if id >= b.workers {
		return errf(http.StatusNotFound, CodeWorkerNotFound, fmt.Sprintf("the running build has workers 0 to %d", b.workers-1))
	}
	if pause {
		b.gate.Pause(id)
	} else {
		b.gate.Resume(id)
	}
	rid, st := b.snapshot()
	var node, phase string
	for _, ws := range st.Workers {
		if ws.Worker == id {
			node, phase = ws.Node, ws.Phase
		}
	}
	s.publish(Event{Type: EvWorkerStatus, Profile: ps.name, RunID: rid,
		Data: map[string]any{"worker": id, "node": node, "phase": phase, "paused": pause}})
	busy, paused := 0, 0
	for _, ws := range st.Workers {
		if ws.Node != "" {
			busy++
		}
	}
	for w := 0; w < b.workers; w++ {
		if b.gate.Paused(w) {
			paused++
		}
	}
	s.metrics.setWorkers(busy, b.workers-busy, paused)
	_, v, err := s.worker(r, p)
	if err != nil {
		v = workerView{ID: id, Profile: ps.name, RunID: rid, Paused: pause}
	}
	s.writeData(w, r, http.StatusOK, v)
	return nil
}

func (s *Server) pauseWorker(w http.ResponseWriter, r *http.Request, p params) error {
	return s.setPaused(w, r, p, true)
}

func (s *Server) resumeWorker(w http.ResponseWriter, r *http.Request, p params) error {
	return s.setPaused(w, r, p, false)
}
