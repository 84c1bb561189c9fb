package api

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/record"
)

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
		var crashed, cleaned []string
		for _, u := range users {
			rcv, err := execute.Recover(u.profile().Records, u.profile().BuildBase)
			if err != nil {
				return err
			}
			for _, c := range rcv.Crashed {
				crashed = append(crashed, c.ID)
			}
			cleaned = append(cleaned, rcv.Cleaned...)
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
		out = append(out, map[string]any{"path": ps.profile().Records, "crashed_runs": nonNil(crashed), "cleaned_slots": nonNil(cleaned), "removed": rep})
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
