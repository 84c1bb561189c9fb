package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/runreport"
	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
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
	pl, _, err := s.runPlan(run)
	if err != nil {
		return fmt.Errorf("plan of run %s: %w", run.ID, err)
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

func (s *Server) listPackages(w http.ResponseWriter, r *http.Request, _ params) error {
	pg, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query().Get("q")
	all := map[string]record.Package{}
	if err := s.eachDB(func(_ *profileState, db *record.DB) error {
		m, err := db.Packages()
		for k, v := range m {
			all[k] = v
		}
		return err
	}); err != nil {
		return err
	}
	var out []record.Package
	for _, p := range all {
		if q == "" || strings.Contains(p.NodeID, q) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NodeID < out[j].NodeID })
	lo, hi := pg.slice(len(out))
	s.writePage(w, r, nonNil(out[lo:hi]), pg, len(out))
	return nil
}

const latestPlans = 20

// checkOrigin validates an origin path parameter.
func checkOrigin(o string) error {
	cat, port, ok := strings.Cut(o, "/")
	if !ok || !originPart.MatchString(cat) || !originPart.MatchString(strings.Replace(port, "@", "", 1)) {
		return errf(http.StatusBadRequest, CodeBadRequest, "origin must be category/port[@flavor]")
	}
	return nil
}

// originPart is a category, a port name or a flavor.
var originPart = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._+-]*$`)

// packageInfo gathers what the records know of an origin.
type packageInfo struct {
	Origin    string           `json:"origin"`
	Packages  []record.Package `json:"packages"`
	LastBuild *record.Attempt  `json:"last_build,omitempty"`
	history   []*record.Attempt
}

// withoutEnv returns a copy of a without its build environment, whose
// values (environment.env, make.conf) may hold secrets.
func withoutEnv(a *record.Attempt) *record.Attempt {
	c := *a
	c.Env = nil
	return &c
}

func (s *Server) packageInfo(origin string) (*packageInfo, error) {
	if err := checkOrigin(origin); err != nil {
		return nil, err
	}
	pi := &packageInfo{Origin: origin, Packages: []record.Package{}}
	base, _, hasFlavor := strings.Cut(origin, "@")
	err := s.eachDB(func(_ *profileState, db *record.DB) error {
		m, err := db.Packages()
		if err != nil {
			return err
		}
		for id, p := range m {
			if id == origin || (!hasFlavor && strings.HasPrefix(id, base+"@")) {
				pi.Packages = append(pi.Packages, p)
			}
		}
		h, err := db.History(origin)
		pi.history = append(pi.history, h...)
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(pi.Packages, func(i, j int) bool { return pi.Packages[i].NodeID < pi.Packages[j].NodeID })
	sort.SliceStable(pi.history, func(i, j int) bool { return pi.history[i].Start.Before(pi.history[j].Start) })
	for i := len(pi.history) - 1; i >= 0; i-- {
		if a := pi.history[i]; a.Status != record.AttemptUpToDate && a.Status != record.AttemptSkipped && a.Status != record.AttemptIgnored {
			pi.LastBuild = withoutEnv(a)
			break
		}
	}
	if len(pi.Packages) == 0 && len(pi.history) == 0 {
		if n, _ := s.latestNode(origin); n == nil {
			return nil, errf(http.StatusNotFound, CodePackageNotFound, "no package, build or plan knows "+excerpt(origin))
		}
	}
	return pi, nil
}

// latestNode finds origin in the most recent plan that has it (among
// the plans of the last latestPlans runs: decoding plans is costly).
func (s *Server) latestNode(origin string) (*plan.Node, *plan.Plan) {
	runs, err := s.allRuns()
	if err != nil {
		return nil, nil
	}
	if len(runs) > latestPlans {
		runs = runs[:latestPlans]
	}
	for _, r := range runs {
		p, _, err := s.runPlan(r)
		if err != nil || p == nil {
			continue
		}
		if n := p.Node(origin); n != nil {
			return n, p
		}
	}
	return nil, nil
}

func (s *Server) getPackage(w http.ResponseWriter, r *http.Request, p params) error {
	pi, err := s.packageInfo(p["origin"])
	if err != nil {
		return err
	}
	out := map[string]any{"origin": pi.Origin, "packages": pi.Packages, "last_build": pi.LastBuild}
	if n, _ := s.latestNode(pi.Origin); n != nil {
		out["version"], out["pkgfile"], out["dependencies"] = n.Version, n.PkgFile, n.Deps
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) getPackageDeps(w http.ResponseWriter, r *http.Request, p params) error {
	origin := p["origin"]
	if err := checkOrigin(origin); err != nil {
		return err
	}
	n, pl := s.latestNode(origin)
	if n == nil {
		return errf(http.StatusNotFound, CodePackageNotFound, "no recorded plan has "+excerpt(origin))
	}
	var rdeps []string
	for i := range pl.Ports {
		for _, ids := range pl.Ports[i].Deps {
			for _, id := range ids {
				if id == n.ID {
					rdeps = append(rdeps, pl.Ports[i].ID)
				}
			}
		}
	}
	sort.Strings(rdeps)
	s.writeData(w, r, http.StatusOK, map[string]any{"node": n.ID, "plan_digest": pl.Digest,
		"dependencies": n.Deps, "dependents": nonNil(uniq(rdeps))})
	return nil
}

func uniq(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) getPackageHistory(w http.ResponseWriter, r *http.Request, p params) error {
	pg, err := pageOf(r)
	if err != nil {
		return err
	}
	pi, err := s.packageInfo(p["origin"])
	if err != nil {
		return err
	}
	h := pi.history
	out := make([]*record.Attempt, 0, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out = append(out, withoutEnv(h[i]))
	}
	lo, hi := pg.slice(len(out))
	s.writePage(w, r, out[lo:hi], pg, len(out))
	return nil
}

func (s *Server) getPackageStatus(w http.ResponseWriter, r *http.Request, p params) error {
	pi, err := s.packageInfo(p["origin"])
	if err != nil {
		return err
	}
	state := "never-built"
	var worker any
	switch {
	case pi.LastBuild != nil && pi.LastBuild.Status == record.AttemptBuilding:
		state = "building"
		for _, name := range s.order {
			if b := s.profiles[name].current(); b != nil {
				_, st := b.snapshot()
				for _, ws := range st.Workers {
					if ws.Node == pi.LastBuild.NodeID {
						worker = ws
					}
				}
			}
		}
	case pi.LastBuild != nil && pi.LastBuild.Status == record.AttemptFailed:
		state = "failed"
	case len(pi.Packages) > 0:
		state = "built"
	}
	s.writeData(w, r, http.StatusOK, map[string]any{"origin": pi.Origin, "state": state, "worker": worker,
		"last_build": pi.LastBuild, "packages": pi.Packages})
	return nil
}

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

// logPath returns the log file of attempt at: the path the records hold,
// accepted only inside the profile's logs_dir or the logs folder of one of
// its replays (<build_base>/replay/<key>/logs).
func logPath(ps *profileState, at *record.Attempt) (string, error) {
	lp := at.LogPath
	if lp == "" || ps == nil {
		return "", errf(http.StatusNotFound, CodeLogNotFound, "port build "+at.ID+" has no log")
	}
	dir := filepath.Dir(filepath.Clean(lp))
	if dir == filepath.Clean(ps.profile().LogsDir) {
		return lp, nil
	}
	replays := filepath.Join(filepath.Clean(ps.profile().BuildBase), "replay", "*", "logs")
	if ok, _ := filepath.Match(replays, dir); ok {
		return lp, nil
	}
	return "", errf(http.StatusNotFound, CodeLogNotFound, "the log of port build "+at.ID+" is outside logs_dir")
}

// readLog reads up to the last max bytes of at's log.
func readLog(ps *profileState, at *record.Attempt, max int64) (string, error) {
	lp, err := logPath(ps, at)
	if err != nil {
		return "", err
	}
	f, err := os.Open(lp)
	if err != nil {
		return "", errf(http.StatusNotFound, CodeLogNotFound, "the log of port build "+at.ID+" is gone")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if st.Size() > max {
		f.Seek(st.Size()-max, io.SeekStart)
	}
	b, err := io.ReadAll(io.LimitReader(f, max))
	return string(b), err
}

func (s *Server) getLog(w http.ResponseWriter, r *http.Request, p params) error {
	at, ps, err := s.findAttempt(p["build_id"])
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.code == CodeBuildNotFound {
			return s.runLogs(w, r, p["build_id"])
		}
		return err
	}
	text, err := readLog(ps, at, 8<<20)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, text)
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = []string{}
	}
	if t := r.URL.Query().Get("tail"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return errf(http.StatusBadRequest, CodeBadRequest, "tail must be a number of lines")
		}
		lines = lines[max(0, len(lines)-n):]
	}
	s.writeData(w, r, http.StatusOK, map[string]any{"attempt_id": at.ID, "run_id": at.RunID, "node": at.NodeID,
		"status": at.Status, "lines": lines})
	return nil
}

// runLogs lists the port logs of a run (GET /logs/{run id}).
func (s *Server) runLogs(w http.ResponseWriter, r *http.Request, id string) error {
	run, err := s.findRun(id)
	if err != nil {
		return errf(http.StatusNotFound, CodeLogNotFound, "no build or port build "+excerpt(id))
	}
	type entry struct {
		AttemptID string `json:"attempt_id"`
		Node      string `json:"node"`
		Status    string `json:"status"`
		Log       string `json:"log"`
		Stream    string `json:"stream"`
	}
	out := []entry{}
	err = s.eachDB(func(_ *profileState, db *record.DB) error {
		atts, err := db.RunAttempts(run.ID)
		for _, a := range atts {
			if a.LogPath != "" {
				out = append(out, entry{a.ID, a.NodeID, a.Status, Prefix + "/logs/" + a.ID, Prefix + "/logs/" + a.ID + "/stream"})
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	s.writeData(w, r, http.StatusOK, map[string]any{"run_id": run.ID, "logs": out})
	return nil
}

func (s *Server) getArtifact(w http.ResponseWriter, r *http.Request, p params) error {
	at, ps, err := s.findAttempt(p["build_id"])
	if err != nil {
		return err
	}
	if at.PkgFile == "" || ps == nil || at.Status != record.AttemptSuccess && at.Status != record.AttemptUpToDate {
		return errf(http.StatusNotFound, CodeArtifactNotFound, "port build "+at.ID+" produced no package")
	}
	// A replay builds into its own packages folder, recorded with its run.
	dir := ps.profile().PackagesDir
	if err := withDB(ps, func(db *record.DB) error {
		run, err := db.Run(at.RunID)
		if err == nil && run.PackagesDir != "" {
			dir = run.PackagesDir
		}
		return nil
	}); err != nil {
		return err
	}
	name := filepath.Base(at.PkgFile)
	f, err := os.Open(filepath.Join(dir, "All", name))
	if err != nil {
		return errf(http.StatusNotFound, CodeArtifactNotFound, "the package "+name+" is no longer in "+dir)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	if at.SHA256 != "" {
		w.Header().Set("X-Checksum-SHA256", at.SHA256)
	}
	http.ServeContent(w, r, name, st.ModTime(), f)
	return nil
}

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

// redactProfile copies p without secrets: environment values read from
// the host, and variables whose names look like secrets.
func redactProfile(p *spec.Profile) spec.Profile {
	c := *p
	c.MakeConf = redactMap(p.MakeConf, false)
	c.EnvRead = redactMap(p.EnvRead, true)
	c.Environment.Env = redactMap(p.Environment.Env, false)
	c.Ports = map[string]spec.PortSettings{}
	for k, v := range p.Ports {
		v.MakeEnv = redactMap(v.MakeEnv, false)
		c.Ports[k] = v
	}
	return c
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request, _ params) error {
	var out []spec.Profile
	for _, name := range s.order {
		out = append(out, redactProfile(s.profiles[name].profile()))
	}
	s.writeData(w, r, http.StatusOK, map[string]any{"profiles": out, "metrics_public": s.cfg.MetricsPublic,
		"rate_limit": map[string]any{"per_second": float64(s.cfg.Rate), "burst": s.cfg.Burst}})
	return nil
}

func (s *Server) getProfiles(w http.ResponseWriter, r *http.Request, _ params) error {
	type prof struct {
		Name      string   `json:"name"`
		File      string   `json:"file"`
		BuildBase string   `json:"build_base"`
		Records   string   `json:"records"`
		Targets   []string `json:"targets"`
		Workers   int      `json:"workers"`
		Default   bool     `json:"default"`
	}
	var out []prof
	for i, name := range s.order {
		p := s.profiles[name].profile()
		out = append(out, prof{p.Name, p.File, p.BuildBase, p.Records, p.Targets, p.Workers.Count, i == 0})
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) getDBStats(w http.ResponseWriter, r *http.Request, _ params) error {
	var out []map[string]any
	err := s.eachDB(func(ps *profileState, db *record.DB) error {
		st, err := os.Stat(db.Path())
		if err != nil {
			return err
		}
		counts, err := db.BucketCounts()
		out = append(out, map[string]any{"path": db.Path(), "profile": ps.name, "size_bytes": st.Size(), "buckets": counts})
		return err
	})
	if err != nil {
		return err
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) cleanDB(w http.ResponseWriter, r *http.Request, _ params) error {
	var out []map[string]any
	seen := map[string][]*profileState{}
	for _, name := range s.order {
		ps := s.profiles[name]
		seen[ps.profile().Records] = append(seen[ps.profile().Records], ps)
	}
	for _, name := range s.order {
		ps := s.profiles[name]
		users := seen[ps.profile().Records]
		if users == nil {
			continue
		}
		delete(seen, ps.profile().Records)
		var crashed []string
		for _, u := range users {
			rs, err := execute.RecoverCrashed(u.profile().Records, u.profile().BuildBase)
			if err != nil {
				return err
			}
			for _, c := range rs {
				crashed = append(crashed, c.ID)
			}
		}
		db, err := openRW(ps.profile().Records)
		if err != nil {
			return err
		}
		rep, err := db.CleanStale(func(p record.Package) bool {
			for _, u := range users {
				if fileExists(filepath.Join(u.profile().PackagesDir, "All", filepath.Base(p.PkgFile))) {
					return false
				}
			}
			return true
		})
		db.Close()
		if err != nil {
			return err
		}
		rep.Packages = nonNil(rep.Packages)
		out = append(out, map[string]any{"path": ps.profile().Records, "crashed_runs": nonNil(crashed), "removed": rep})
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) exportDB(w http.ResponseWriter, r *http.Request, _ params) error {
	ps, err := s.profileParam(r.URL.Query().Get("profile"))
	if err != nil {
		return err
	}
	db, err := openRO(ps.profile().Records)
	if err != nil {
		return err
	}
	defer db.Close()
	// Export into memory first so that an error still yields an error
	// envelope; the envelope is then written around it.
	var buf strings.Builder
	if err := db.Export(&buf); err != nil {
		return err
	}
	m := s.meta(r)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="dsynth-records-`+ps.name+`.json"`)
	io.WriteString(w, `{"status":"success","data":`)
	io.WriteString(w, strings.TrimSuffix(buf.String(), "\n"))
	fmt.Fprintf(w, `,"meta":{"timestamp":%q,"version":%q,"request_id":%q}}`+"\n", m.Timestamp.Format(time.RFC3339Nano), m.Version, m.RequestID)
	return nil
}
