package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-dsynth/dsynth/record"
)

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
