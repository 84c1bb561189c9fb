package api

import (
	"container/list"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
)

// page is a pagination request.
type page struct{ page, perPage int }

func pageOf(r *http.Request) (page, error) {
	pg := page{page: 1, perPage: 50}
	q := r.URL.Query()
	for _, f := range []struct {
		name string
		dst  *int
		max  int
	}{{"page", &pg.page, 1 << 30}, {"per_page", &pg.perPage, 500}} {
		if v := q.Get(f.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > f.max {
				return pg, errf(http.StatusBadRequest, CodeBadRequest, f.name+" must be an integer from 1 to "+strconv.Itoa(f.max))
			}
			*f.dst = n
		}
	}
	return pg, nil
}

// slice returns the page's part of n items as [lo, hi).
func (pg page) slice(n int) (int, int) {
	lo := min((pg.page-1)*pg.perPage, n)
	return lo, min(lo+pg.perPage, n)
}

// parseSince reads a since parameter: RFC 3339 or a duration back from
// now ("24h").
func parseSince(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, errf(http.StatusBadRequest, CodeBadRequest, "since must be an RFC 3339 time or a duration such as 24h")
}

// profileParam returns the profile named by ?profile= (default: the
// first served one).
func (s *Server) profileParam(name string) (*profileState, error) {
	if name == "" {
		return s.profiles[s.order[0]], nil
	}
	ps := s.profiles[name]
	if ps == nil {
		return nil, errf(http.StatusNotFound, CodeProfileNotFound, "no profile "+excerpt(name)+" is served").with("profiles", s.order)
	}
	return ps, nil
}

// eachDB calls fn once per distinct records database with the first
// profile using it.
func (s *Server) eachDB(fn func(ps *profileState, db *record.DB) error) error {
	seen := map[string]bool{}
	for _, name := range s.order {
		ps := s.profiles[name]
		if seen[ps.profile().Records] {
			continue
		}
		seen[ps.profile().Records] = true
		if err := withDB(ps, func(db *record.DB) error { return fn(ps, db) }); err != nil {
			return err
		}
	}
	return nil
}

// allRuns returns the runs of every records database, newest first,
// without their plan bytes (see runPlan).
func (s *Server) allRuns() ([]*record.Run, error) {
	var out []*record.Run
	err := s.eachDB(func(_ *profileState, db *record.DB) error {
		runs, err := db.RunSummaries()
		out = append(out, runs...)
		return err
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.After(out[j].Start) })
	return out, err
}

// findRun looks run id (or a unique prefix, or "last") up.
func (s *Server) findRun(id string) (*record.Run, error) {
	var found *record.Run
	err := s.eachDB(func(_ *profileState, db *record.DB) error {
		if found != nil {
			return nil
		}
		r, err := db.ResolveRun(id)
		if err == nil {
			found = r
			return nil
		}
		if errors.Is(err, record.ErrNotFound) {
			return nil
		}
		return errf(http.StatusBadRequest, CodeBadRequest, excerptMessage(err.Error()))
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, errf(http.StatusNotFound, CodeBuildNotFound, "no build "+excerpt(id))
	}
	return found, nil
}

// findAttempt looks a port build (attempt) up, with the profile whose
// records hold it.
func (s *Server) findAttempt(id string) (*record.Attempt, *profileState, error) {
	var at *record.Attempt
	var owner *profileState
	err := s.eachDB(func(ps *profileState, db *record.DB) error {
		if at != nil {
			return nil
		}
		a, err := db.Attempt(id)
		if err == nil {
			at, owner = a, ps
			return nil
		}
		if errors.Is(err, record.ErrNotFound) {
			return nil
		}
		return errf(http.StatusBadRequest, CodeBadRequest, excerptMessage(err.Error()))
	})
	if err != nil {
		return nil, nil, err
	}
	if at == nil {
		return nil, nil, errf(http.StatusNotFound, CodeBuildNotFound, "no port build "+excerpt(id))
	}
	// The profile of the attempt's run, when it is served.
	if r, err := s.findRun(at.RunID); err == nil {
		if ps := s.profiles[r.ProfileName]; ps != nil {
			owner = ps
		}
	}
	return at, owner, nil
}

// planStore keeps recent plans by digest (POST /plans) and decoded plans
// of runs.
type planStore struct {
	mu  sync.Mutex
	max int
	lru *list.List
	m   map[string]*list.Element
}

type storedPlan = planfile.File

func newPlanStore(n int) *planStore {
	return &planStore{max: n, lru: list.New(), m: map[string]*list.Element{}}
}

func (ps *planStore) put(f *planfile.File) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if e, ok := ps.m[f.Digest()]; ok {
		ps.lru.MoveToFront(e)
		return
	}
	ps.m[f.Digest()] = ps.lru.PushFront(f)
	for ps.lru.Len() > ps.max {
		e := ps.lru.Back()
		ps.lru.Remove(e)
		delete(ps.m, e.Value.(*storedPlan).Digest())
	}
}

func (ps *planStore) get(digest string) *storedPlan {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if e, ok := ps.m[digest]; ok {
		ps.lru.MoveToFront(e)
		return e.Value.(*storedPlan)
	}
	return nil
}

// runPlan decodes the plan a run applied (cached by digest), reading it
// from the records when r is a summary.
func (s *Server) runPlan(r *record.Run) (*planfile.File, error) {
	if sp := s.plans.get(r.PlanDigest); sp != nil && r.PlanDigest != "" {
		return sp, nil
	}
	if len(r.Plan) == 0 && r.PlanDigest != "" {
		full, err := s.findRun(r.ID)
		if err != nil {
			return nil, err
		}
		r = full
	}
	if len(r.Plan) == 0 {
		return nil, nil
	}
	f, err := planfile.Decode(r.Plan)
	if err != nil {
		return nil, err
	}
	s.plans.put(f)
	return f, nil
}

// redactKey reports whether a variable's value must not be shown.
func redactKey(k string) bool {
	k = strings.ToUpper(k)
	for _, w := range []string{"PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "AUTH", "PRIVATE"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

const redacted = "<redacted>"

func redactMap(m map[string]string, all bool) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if all || redactKey(k) {
			v = redacted
		}
		out[k] = v
	}
	return out
}

// ptr is &v.
func ptr[T any](v T) *T { return &v }
