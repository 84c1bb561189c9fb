package api

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/execute/farm"
	"github.com/go-dsynth/dsynth/execute/publish"
	"github.com/go-dsynth/dsynth/internal/fsutil"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

// repositoryView is what GET /repository says of one profile's
// repository.
type repositoryView struct {
	Profile string `json:"profile"`
	// URL is what clients put in their pkg repository configuration.
	URL string `json:"url"`
	// Published is the folder .latest points to ("" before the first).
	Published string `json:"published"`
	// Current is the repository build that published it, Last the latest
	// build whatever its outcome (a failed one left Current published).
	Current *record.Operation `json:"current"`
	Last    *record.Operation `json:"last"`
	// PublicKey is the signing key's public key (PEM), for signed ones.
	PublicKey string `json:"public_key,omitempty"`
}

func (s *Server) repositoryOf(ps *profileState) (*repositoryView, error) {
	prof := ps.profile()
	v := &repositoryView{Profile: ps.name, URL: "file://" + filepath.Join(prof.PackagesDir, publish.Latest)}
	v.Published, _ = os.Readlink(filepath.Join(prof.PackagesDir, publish.Latest))
	err := withDB(ps, func(db *record.DB) error {
		ops, err := db.Operations(record.OpRepository)
		if err != nil {
			return err
		}
		for _, op := range ops {
			if op.Profile != "" && op.Profile != ps.name {
				continue
			}
			v.Last = op
			if op.Status == record.OpOK && v.Published != "" && filepath.Base(op.Path) == v.Published {
				v.Current = op
			}
		}
		return nil
	})
	if v.Current != nil && v.Current.Fingerprint != "" {
		if b, err := os.ReadFile(filepath.Join(prof.LogsDir, publish.PubKeyFile)); err == nil {
			v.PublicKey = string(b)
		}
	}
	return v, err
}

func (s *Server) getRepository(w http.ResponseWriter, r *http.Request, _ params) error {
	names, err := s.profilesParam(r)
	if err != nil {
		return err
	}
	out := []*repositoryView{}
	for _, name := range names {
		v, err := s.repositoryOf(s.profiles[name])
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

// postRepository builds and publishes a profile's repository now (as
// `dsynth repo`), refused while a build uses its build base.
func (s *Server) postRepository(w http.ResponseWriter, r *http.Request, _ params) error {
	ps, err := s.profileParam(r.URL.Query().Get("profile"))
	if err != nil {
		return err
	}
	prof := ps.profile()
	sess, err := execute.Open(prof.BuildBase, func(m string) { s.log.Warn(m) })
	if err != nil {
		return errf(http.StatusConflict, CodeConflict, err.Error())
	}
	defer sess.Close()
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Minute)
	defer cancel()
	op, err := execute.PublishRepository(ctx, ptr(plan.SettingsOf(prof)), nil)
	if op == nil {
		return errf(http.StatusInternalServerError, CodeInternal, err.Error())
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	s.writeData(w, r, status, op)
	return nil
}

// getOperations lists the recorded operations (repository builds,
// package cleans, fetches, purges), newest first; ?kind= selects one kind.
func (s *Server) getOperations(w http.ResponseWriter, r *http.Request, _ params) error {
	kind := r.URL.Query().Get("kind")
	switch kind {
	case "", record.OpRepository, record.OpPkgClean, record.OpFetch, record.OpPurgeDistfiles:
	default:
		return errf(http.StatusBadRequest, CodeBadRequest, "kind "+excerpt(kind)+" is none of repository, pkgclean, fetch, purge-distfiles")
	}
	out := []*record.Operation{}
	err := s.eachDB(func(_ *profileState, db *record.DB) error {
		ops, err := db.Operations(kind)
		out = append(out, ops...)
		return err
	})
	if err != nil {
		return err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.After(out[j].Start) })
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

// farmView is what GET /farm says of one profile's build farm: the hosts
// its controller saw (the state file of a farm apply, see execute/farm).
type farmView struct {
	Profile string             `json:"profile"`
	Updated time.Time          `json:"updated,omitzero"`
	Hosts   []*farm.HostStatus `json:"hosts"`
}

func (s *Server) getFarm(w http.ResponseWriter, r *http.Request, _ params) error {
	names, err := s.profilesParam(r)
	if err != nil {
		return err
	}
	out := []*farmView{}
	for _, name := range names {
		v := &farmView{Profile: name, Hosts: []*farm.HostStatus{}}
		b, err := fsutil.ReadFile(filepath.Join(s.profiles[name].profile().BuildBase, farm.HostsFileName), 16<<20)
		if err == nil {
			var hf farm.HostsFile
			if json.Unmarshal(b, &hf) == nil {
				v.Updated = hf.Updated
				if hf.Hosts != nil {
					v.Hosts = hf.Hosts
				}
			}
		}
		out = append(out, v)
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}

// profilesParam is the profile ?profile= names, every served one without.
func (s *Server) profilesParam(r *http.Request) ([]string, error) {
	pn := r.URL.Query().Get("profile")
	if pn == "" {
		return s.order, nil
	}
	ps, err := s.profileParam(pn)
	if err != nil {
		return nil, err
	}
	return []string{ps.name}, nil
}
