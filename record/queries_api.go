package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Export writes every record as one JSON document, read in a single
// transaction so that it is consistent even while apply writes:
//
//	{"schema_version":1,"exported":"...","runs":[...],"attempts":[...],
//	 "packages":[...],"workers":[...],"apikeys":[{id,name,role,created,revoked}]}
//
// Runs are written without their plan bytes (plans are exported with
// `dsynth plan export`); API keys without their salts and hashes; the port
// metadata cache, the CRC index, the input components and the history
// index (derived from attempts) are left out.
func (db *DB) Export(w io.Writer) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		enc := func(v any) error {
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			_, err = w.Write(b)
			return err
		}
		var schema uint32
		if v := tx.Bucket(bucketMeta).Get(keySchema); len(v) == 4 {
			schema = uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
		}
		if _, err := fmt.Fprintf(w, `{"schema_version":%d,"exported":%q`, schema, time.Now().UTC().Format(time.RFC3339)); err != nil {
			return err
		}
		type section struct {
			name   string
			bucket []byte
			clean  func([]byte) (any, error)
		}
		raw := func(v []byte) (any, error) { return json.RawMessage(v), nil }
		sections := []section{
			{"runs", bucketRuns, func(v []byte) (any, error) {
				var r Run
				if err := json.Unmarshal(v, &r); err != nil {
					return nil, err
				}
				r.Plan = nil
				return &r, nil
			}},
			{"attempts", bucketAttempts, raw},
			{"packages", bucketPackages, raw},
			{"workers", bucketWorkers, raw},
			{"apikeys", bucketAPIKeys, func(v []byte) (any, error) {
				var k APIKey
				if err := json.Unmarshal(v, &k); err != nil {
					return nil, err
				}
				k.Salt, k.Hash = "", ""
				return struct {
					ID      string    `json:"id"`
					Name    string    `json:"name"`
					Role    string    `json:"role"`
					Created time.Time `json:"created"`
					Revoked time.Time `json:"revoked,omitzero"`
				}{k.ID, k.Name, k.Role, k.Created, k.Revoked}, nil
			}},
		}
		for _, s := range sections {
			if _, err := fmt.Fprintf(w, ",%q:[", s.name); err != nil {
				return err
			}
			first := true
			b := tx.Bucket(s.bucket)
			if b != nil {
				err := b.ForEach(func(k, v []byte) error {
					x, err := s.clean(v)
					if err != nil {
						return fmt.Errorf("export %s %s: %w", s.name, k, err)
					}
					if !first {
						if _, err := w.Write([]byte{','}); err != nil {
							return err
						}
					}
					first = false
					return enc(x)
				})
				if err != nil {
					return err
				}
			}
			if _, err := w.Write([]byte{']'}); err != nil {
				return err
			}
		}
		_, err := w.Write([]byte("}\n"))
		return err
	})
}

// CleanReport says what CleanStale removed.
type CleanReport struct {
	// HistoryKeys are history index entries naming missing attempts.
	HistoryKeys int `json:"history_keys"`
	// Packages are package records whose file is gone from packages_dir.
	Packages []string `json:"packages"`
	// Workers are worker activity entries of runs that no longer exist.
	Workers int `json:"workers"`
}

// CleanStale removes stale entries in one write transaction: history
// index keys whose attempt is missing, worker entries of unknown runs,
// and package records for which pkgGone reports the file missing (nil
// keeps every package record).
func (db *DB) CleanStale(pkgGone func(Package) bool) (CleanReport, error) {
	var rep CleanReport
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		att, runs := tx.Bucket(bucketAttempts), tx.Bucket(bucketRuns)
		var del [][]byte
		h := tx.Bucket(bucketHistory)
		if err := h.ForEach(func(k, v []byte) error {
			if att.Get(v) == nil {
				del = append(del, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range del {
			if err := h.Delete(k); err != nil {
				return err
			}
		}
		rep.HistoryKeys = len(del)
		del = del[:0]
		wb := tx.Bucket(bucketWorkers)
		if err := wb.ForEach(func(k, v []byte) error {
			run, _, _ := bytes.Cut(k, []byte("/"))
			if runs.Get(run) == nil {
				del = append(del, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range del {
			if err := wb.Delete(k); err != nil {
				return err
			}
		}
		rep.Workers = len(del)
		if pkgGone == nil {
			return nil
		}
		del = del[:0]
		pb := tx.Bucket(bucketPackages)
		if err := pb.ForEach(func(k, v []byte) error {
			var p Package
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decode package %s: %w", k, err)
			}
			if pkgGone(p) {
				del = append(del, bytes.Clone(k))
				rep.Packages = append(rep.Packages, string(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range del {
			if err := pb.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("records %s: clean: %w", db.path, err)
	}
	return rep, nil
}

// skipJSON ignores a JSON value without decoding it.
type skipJSON struct{}

func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

// RunSummaries returns every run without its plan bytes (which can be
// megabytes each), oldest first.
func (db *DB) RunSummaries() ([]*Run, error) {
	var out []*Run
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			var r struct {
				Run
				Plan skipJSON `json:"plan"`
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode run %s: %w", k, err)
			}
			out = append(out, &r.Run)
			return liveCounts(tx, &r.Run)
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, err
}

// ResolveRun returns run id, like Run ("last", a unique prefix of at
// least 4 characters), reading only the runs it needs.
func (db *DB) ResolveRun(id string) (*Run, error) {
	if id == "last" {
		runs, err := db.RunSummaries()
		if err != nil {
			return nil, err
		}
		if len(runs) == 0 {
			return nil, fmt.Errorf("no runs recorded: %w", ErrNotFound)
		}
		id = runs[len(runs)-1].ID
	}
	var out *Run
	err := db.bolt.View(func(tx *bolt.Tx) error {
		r, err := getRun(tx, id)
		if err == nil || len(id) < 4 {
			out = r
			return err
		}
		c := tx.Bucket(bucketRuns).Cursor()
		var found []byte
		for k, _ := c.Seek([]byte(id)); k != nil && bytes.HasPrefix(k, []byte(id)); k, _ = c.Next() {
			if found != nil {
				return fmt.Errorf("run ID prefix %q is ambiguous", id)
			}
			found = bytes.Clone(k)
		}
		if found == nil {
			return err
		}
		out, err = getRun(tx, string(found))
		return err
	})
	return out, err
}
