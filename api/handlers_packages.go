package api

import (
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

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
		f, err := s.runPlan(r)
		if err != nil || f == nil {
			continue
		}
		p := f.Plan()
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
