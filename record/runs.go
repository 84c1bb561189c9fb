package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Run statuses.
const (
	RunRunning     = "running"
	RunSuccess     = "success"     // every planned port built or up to date
	RunFailed      = "failed"      // completed with failed or skipped ports
	RunInterrupted = "interrupted" // SIGINT/SIGTERM
	RunCrashed     = "crashed"     // the apply process died (found by the next one)
	RunError       = "error"       // could not run (isolation failure, ...)
)

// Counts are the outcomes of a run's ports.
type Counts struct {
	Planned  int `json:"planned"`
	Built    int `json:"built"`
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
	Ignored  int `json:"ignored"`
	UpToDate int `json:"up_to_date"`
}

// Run is one apply of a plan (bucket runs, keyed by ID).
type Run struct {
	ID         string `json:"id"`
	PlanDigest string `json:"plan_digest"`
	// Plan is the plan file's bytes exactly as applied.
	Plan        []byte    `json:"plan"`
	ProfileName string    `json:"profile_name"`
	ProfileFile string    `json:"profile_file,omitempty"`
	BuildBase   string    `json:"build_base"`
	Workers     int       `json:"workers"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end,omitzero"`
	Status      string    `json:"status"`
	// Error is why the run stopped, for error/interrupted/crashed runs.
	Error  string `json:"error,omitempty"`
	Counts Counts `json:"counts"`
	// PID and Host identify the apply process (for crash detection).
	PID  int    `json:"pid"`
	Host string `json:"host"`
	// ReplayOf links a `dsynth replay` run to what it replayed: the
	// original run's ID, or "plan:<digest>" for a plan file.
	ReplayOf string `json:"replay_of,omitempty"`
	// PackagesDir is where a replay wrote its packages (the profile's
	// packages_dir is never written by a replay).
	PackagesDir string `json:"packages_dir,omitempty"`
	// Hooks are the profile's hook programs run for this run, in order.
	Hooks []HookResult `json:"hooks,omitempty"`
}

// HookResult is one hook program run: which hook, for which port (empty
// for run_start/run_end), and how it ended: ok, failed, timeout or
// dropped.
type HookResult struct {
	Hook     string        `json:"hook"`
	Origin   string        `json:"origin,omitempty"`
	Program  string        `json:"program,omitempty"`
	Start    time.Time     `json:"start,omitzero"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	Status   string        `json:"status"`
	Error    string        `json:"error,omitempty"`
}

// Duration is the run's wall time (up to now for a running run).
func (r *Run) Duration() time.Duration {
	if r.End.IsZero() {
		return time.Since(r.Start)
	}
	return r.End.Sub(r.Start)
}

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// putRun writes r.
func putRun(tx *bolt.Tx, r *Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	if err := tx.Bucket(bucketRuns).Put([]byte(r.ID), b); err != nil {
		return fmt.Errorf("put run %s: %w", r.ID, err)
	}
	return nil
}

// getRun reads run id.
func getRun(tx *bolt.Tx, id string) (*Run, error) {
	v := tx.Bucket(bucketRuns).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	var r Run
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode run %s: %w", id, err)
	}
	return &r, liveCounts(tx, &r)
}

// Runs returns every run, oldest first.
func (db *DB) Runs() ([]*Run, error) {
	var out []*Run
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode run %s: %w", k, err)
			}
			out = append(out, &r)
			return liveCounts(tx, &r)
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, err
}

// Run returns run id; "last" names the most recent run. A unique prefix of
// an ID is accepted.
func (db *DB) Run(id string) (*Run, error) {
	runs, err := db.Runs()
	if err != nil {
		return nil, err
	}
	if id == "last" {
		if len(runs) == 0 {
			return nil, fmt.Errorf("no runs recorded: %w", ErrNotFound)
		}
		return runs[len(runs)-1], nil
	}
	var found *Run
	for _, r := range runs {
		if r.ID == id {
			return r, nil
		}
		if len(id) >= 4 && len(r.ID) > len(id) && r.ID[:len(id)] == id {
			if found != nil {
				return nil, fmt.Errorf("run ID prefix %q is ambiguous", id)
			}
			found = r
		}
	}
	if found == nil {
		return nil, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return found, nil
}

// UpdateRun applies fn to run id and writes it back in one transaction.
func (db *DB) UpdateRun(id string, fn func(*Run) error) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		r, err := getRun(tx, id)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		return putRun(tx, r)
	})
}

// liveCounts gives a run still running the counts of its attempts so far
// (the run record's own counts are written when it ends, or when crash
// recovery, which reads it through here, marks it crashed): every reader
// (show, status, the API) then says the same during a run as after it.
func liveCounts(tx *bolt.Tx, r *Run) error {
	if r.Status != RunRunning {
		return nil
	}
	atts, err := scanIndex(tx, "r/"+r.ID+"/")
	if err != nil {
		return err
	}
	c := Counts{Planned: r.Counts.Planned}
	for _, a := range atts {
		switch a.Status {
		case AttemptSuccess:
			c.Built++
		case AttemptFailed:
			c.Failed++
		case AttemptSkipped:
			c.Skipped++
		case AttemptIgnored:
			c.Ignored++
		case AttemptUpToDate:
			c.UpToDate++
		}
	}
	r.Counts = c
	return nil
}
