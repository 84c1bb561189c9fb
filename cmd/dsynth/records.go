package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

// recordsFlags select the records database of the reading commands
// (status, show RUN_ID, history, stats, logs, plan export).
type recordsFlags struct {
	records string
	profile string
}

func (r *recordsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.records, "records", "", "records database `FILE` (default: $DSYNTH_RECORDS, else the one the last apply used)")
	fs.StringVar(&r.profile, "profile-file", "", "take the records database from profile `PROFILE.hcl`")
}

// lastRecordsFile remembers the records database the last apply used, so
// that the reading commands work without flags.
func lastRecordsFile() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "dsynth", "last-records")
}

// rememberRecords records path as the last used records database.
func rememberRecords(path string) {
	f := lastRecordsFile()
	if f == "" {
		return
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if os.MkdirAll(filepath.Dir(f), 0o755) == nil {
		os.WriteFile(f, []byte(path+"\n"), 0o644)
	}
}

// path resolves the records database: -records, -profile-file PROFILE.hcl,
// $DSYNTH_RECORDS, the last one apply used.
func (r *recordsFlags) path() (string, error) {
	if r.records != "" {
		return r.records, nil
	}
	if r.profile != "" {
		var pf profileFlags
		l, err := pf.load(r.profile)
		if err != nil {
			return "", err
		}
		return l.Profile.Records, nil
	}
	if p := os.Getenv("DSYNTH_RECORDS"); p != "" {
		return p, nil
	}
	if f := lastRecordsFile(); f != "" {
		if b, err := os.ReadFile(f); err == nil && strings.TrimSpace(string(b)) != "" {
			// Say which: the last apply may have been of another profile.
			p := strings.TrimSpace(string(b))
			fmt.Fprintf(stderr, "dsynth: reading the records of the last apply, %s (-profile-file PROFILE.hcl or -records FILE reads another)\n", p)
			return p, nil
		}
	}
	return "", errors.New("no records database: give -records FILE or -profile-file PROFILE.hcl (or set DSYNTH_RECORDS)")
}

// openRecords opens the records database read-only (or read-write), with a
// clear error for a missing or corrupted file.
func openRecords(path string, readOnly bool) (db *record.DB, err error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("records database %s: %w (no apply has recorded anything there yet?)", path, err)
	}
	return guardRecords(path, func() (*record.DB, error) {
		return record.Open(path, record.Options{ReadOnly: readOnly, Timeout: 10 * time.Second})
	})
}

// guardRecords runs open and reports a damaged database at path as such
// (record.Guard turns bbolt's panics and memory faults into errors); a
// lock or schema error is passed through unchanged.
func guardRecords[T any](path string, open func() (T, error)) (T, error) {
	var v T
	err := record.Guard(func() (err error) {
		v, err = open()
		return err
	})
	if err != nil && !errors.Is(err, record.ErrLocked) && !errors.Is(err, record.ErrSchema) && !errors.Is(err, record.ErrNotFile) {
		var zero T
		return zero, corrupted(path, err)
	}
	return v, err
}

func corrupted(path string, err error) error {
	if st, serr := os.Stat(path); serr == nil && !st.Mode().IsRegular() {
		// Never advise moving a directory (or a device) aside.
		return fmt.Errorf("records database %s is not a records file: %w", path, err)
	}
	return fmt.Errorf("records database %s cannot be read, it looks corrupted: %v\n"+
		"Packages are not stored in it and are untouched. Move the file aside (e.g. mv %s %s.bad) to start new records",
		path, err, path, path)
}

// withRecords opens the database and runs fn; a damaged database is
// reported as such (see guardRecords).
func withRecords(r *recordsFlags, fn func(db *record.DB) error) error {
	path, err := r.path()
	if err != nil {
		return err
	}
	db, err := openRecords(path, true)
	if err != nil {
		return err
	}
	defer db.Close()
	err = record.Guard(func() error { return fn(db) })
	if errors.Is(err, record.ErrCorrupt) {
		return corrupted(path, err)
	}
	return err
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// loadSnapshot copies the planner's view of the records at path (see
// record.Snapshot): planning never holds the records lock while make runs.
// A damaged database is reported as such.
func loadSnapshot(path string) (plan.Store, error) {
	return guardRecords(path, func() (plan.Store, error) { return plan.RecordsStore(path) })
}
