package record

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Attempt statuses.
const (
	AttemptBuilding    = "building"
	AttemptSuccess     = "success"
	AttemptFailed      = "failed"
	AttemptSkipped     = "skipped"     // a dependency failed or is ignored
	AttemptIgnored     = "ignored"     // IGNORE/BROKEN
	AttemptUpToDate    = "up-to-date"  // nothing to do (planned skip or resumed)
	AttemptInterrupted = "interrupted" // the run was stopped while it built
)

// Phase is one build phase of an attempt.
type Phase struct {
	Name   string    `json:"name"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Status int       `json:"status"`
}

// Attempt is one port of one run (bucket attempts, keyed by ID). Ports that
// were not built (skipped, ignored, up to date) get an attempt too, so a
// run's attempts say what happened to each planned port.
type Attempt struct {
	ID      string `json:"id"`
	RunID   string `json:"run_id"`
	NodeID  string `json:"node_id"`
	Origin  string `json:"origin"`
	Flavor  string `json:"flavor,omitempty"`
	PkgName string `json:"pkgname"`
	Version string `json:"version"`
	CRC32   string `json:"crc32"`
	// InputKey is the node's input key in the plan.
	InputKey string `json:"input_key"`
	// TreeCommit is the ports tree git commit, SystemID the system
	// identity and EnvKey the environment key of the plan.
	TreeCommit string `json:"tree_commit,omitempty"`
	SystemID   string `json:"system_id,omitempty"`
	EnvKey     string `json:"env_key,omitempty"`
	Worker     int    `json:"worker"`
	// Host is the build host of a farm that built it ("" for a local
	// build).
	Host string `json:"host,omitempty"`
	// Options are the node's selected and deselected options.
	OptionsSet   []string `json:"options_set,omitempty"`
	OptionsUnset []string `json:"options_unset,omitempty"`
	// Action is the planned action; Status the outcome.
	Action string    `json:"action"`
	Status string    `json:"status"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end,omitzero"`
	Phases []Phase   `json:"phases,omitempty"`
	// LastPhase is the last phase started (the failing one on failure).
	LastPhase string `json:"last_phase,omitempty"`
	// Error is the failure reason or the skip chain.
	Error   string `json:"error,omitempty"`
	PkgFile string `json:"pkgfile,omitempty"`
	Size    int64  `json:"size,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	// DepsInstalled lists the dependency package files installed in the
	// slot before the build.
	DepsInstalled []string `json:"deps_installed,omitempty"`
	// Env and MakeArgs are the environment and the make arguments (without
	// the phase) the phases ran with.
	Env      []string `json:"env,omitempty"`
	MakeArgs []string `json:"make_args,omitempty"`
	LogPath  string   `json:"log_path,omitempty"`
}

// Duration is the attempt's wall time (0 when it never ran).
func (a *Attempt) Duration() time.Duration {
	if a.Start.IsZero() || a.End.IsZero() {
		return 0
	}
	return a.End.Sub(a.Start)
}

// History index keys (bucket history):
//
//	t/<unix nano, 20 digits>/<attempt ID>          time order
//	o/<origin>\x00<unix nano>/<attempt ID>          per origin
//	r/<run ID>/<unix nano>/<attempt ID>             per run
//
// every value is the attempt ID. The key time is the attempt's creation.
func histKeys(a *Attempt, t time.Time) [][]byte {
	ts := fmt.Sprintf("%020d", t.UnixNano())
	return [][]byte{
		[]byte("t/" + ts + "/" + a.ID),
		[]byte("o/" + a.Origin + "\x00" + ts + "/" + a.ID),
		[]byte("r/" + a.RunID + "/" + ts + "/" + a.ID),
	}
}

// putAttempt writes a. A new attempt is added to the history index; an
// existing one is overwritten in place.
func putAttempt(tx *bolt.Tx, a *Attempt) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode attempt %s: %w", a.ID, err)
	}
	ab := tx.Bucket(bucketAttempts)
	isNew := ab.Get([]byte(a.ID)) == nil
	if err := ab.Put([]byte(a.ID), b); err != nil {
		return fmt.Errorf("put attempt %s: %w", a.ID, err)
	}
	if err := noteDuration(tx.Bucket(bucketDurations), a); err != nil {
		return err
	}
	if isNew {
		t := a.Start
		if t.IsZero() {
			t = time.Now()
		}
		hb := tx.Bucket(bucketHistory)
		for _, k := range histKeys(a, t) {
			if err := hb.Put(k, []byte(a.ID)); err != nil {
				return fmt.Errorf("index attempt %s: %w", a.ID, err)
			}
		}
	}
	return nil
}

// getAttempt reads attempt id.
func getAttempt(tx *bolt.Tx, id string) (*Attempt, error) {
	v := tx.Bucket(bucketAttempts).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("attempt %s: %w", id, ErrNotFound)
	}
	var a Attempt
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("decode attempt %s: %w", id, err)
	}
	return &a, nil
}

func scanIndex(tx *bolt.Tx, prefix string) ([]*Attempt, error) {
	var out []*Attempt
	c := tx.Bucket(bucketHistory).Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		a, err := getAttempt(tx, string(v))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Attempt returns attempt id (a unique prefix of at least 4 characters is
// accepted).
func (db *DB) Attempt(id string) (*Attempt, error) {
	var a *Attempt
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		a, err = getAttempt(tx, id)
		if err == nil || len(id) < 4 {
			return err
		}
		c := tx.Bucket(bucketAttempts).Cursor()
		p := []byte(id)
		var found []byte
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			if found != nil {
				return fmt.Errorf("attempt ID prefix %q is ambiguous", id)
			}
			found = append([]byte(nil), k...)
		}
		if found == nil {
			return err
		}
		a, err = getAttempt(tx, string(found))
		return err
	})
	return a, err
}

// RunAttempts returns the attempts of run id in creation order.
func (db *DB) RunAttempts(runID string) ([]*Attempt, error) {
	var out []*Attempt
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = scanIndex(tx, "r/"+runID+"/")
		return err
	})
	return out, err
}

// History returns every attempt of an origin, oldest first. A node ID with
// a flavor (origin@flavor) selects that flavor only.
func (db *DB) History(node string) ([]*Attempt, error) {
	origin, flavor, hasFlavor := strings.Cut(node, "@")
	var out []*Attempt
	err := db.bolt.View(func(tx *bolt.Tx) error {
		all, err := scanIndex(tx, "o/"+origin+"\x00")
		if err != nil {
			return err
		}
		for _, a := range all {
			if hasFlavor && a.Flavor != flavor {
				continue
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// AttemptsSince returns every attempt created at or after since, oldest
// first (the zero time means all).
func (db *DB) AttemptsSince(since time.Time) ([]*Attempt, error) {
	var out []*Attempt
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		start := []byte("t/")
		if !since.IsZero() {
			start = []byte(fmt.Sprintf("t/%020d", since.UnixNano()))
		}
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, []byte("t/")); k, v = c.Next() {
			a, err := getAttempt(tx, string(v))
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// ExpectedDurations returns, per node ID, the duration of its latest
// successful build, from the history. The scheduler uses it to weigh
// dependency chains. It reads the durations index; a database of an older
// schema opened read-only (not migrated) has none, and the durations are
// then computed from the attempts as the migration would.
func (db *DB) ExpectedDurations() (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var each func(func(k, v []byte) error) error
		if b := tx.Bucket(bucketDurations); b != nil {
			each = b.ForEach
		} else {
			m, err := durationsFromAttempts(tx)
			if err != nil {
				return err
			}
			each = m.ForEach
		}
		return each(func(k, v []byte) error {
			_, d, err := decodeDuration(v)
			if err != nil {
				return fmt.Errorf("duration of %s: %w", k, err)
			}
			out[string(k)] = d
			return nil
		})
	})
	return out, err
}

// A durations value is the end time (Unix nanoseconds) and the duration
// (nanoseconds) of the node's latest successful build, 8 bytes each, big
// endian.
func encodeDuration(end time.Time, d time.Duration) []byte {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, uint64(end.UnixNano()))
	binary.BigEndian.PutUint64(v[8:], uint64(d))
	return v
}

func decodeDuration(v []byte) (end int64, d time.Duration, err error) {
	if len(v) != 16 {
		return 0, 0, fmt.Errorf("corrupt value of %d bytes", len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), time.Duration(binary.BigEndian.Uint64(v[8:])), nil
}

// noteDuration records a's build time in the durations bucket b when a is
// a success at least as recent as the one recorded.
func noteDuration(b durationBucket, a *Attempt) error {
	if a.Status != AttemptSuccess || a.Duration() <= 0 {
		return nil
	}
	if prev := b.Get([]byte(a.NodeID)); prev != nil {
		if end, _, err := decodeDuration(prev); err == nil && end > a.End.UnixNano() {
			return nil
		}
	}
	if err := b.Put([]byte(a.NodeID), encodeDuration(a.End, a.Duration())); err != nil {
		return fmt.Errorf("index duration of %s: %w", a.NodeID, err)
	}
	return nil
}

// durationBucket is what noteDuration needs of a bucket.
type durationBucket interface {
	Get(k []byte) []byte
	Put(k, v []byte) error
}

// fillDurations builds the durations bucket from every attempt (the
// migration from schema 1).
func fillDurations(tx *bolt.Tx) error {
	return forEachAttempt(tx, func(a *Attempt) error { return noteDuration(tx.Bucket(bucketDurations), a) })
}

// durationsFromAttempts computes the durations index in memory, for a
// read-only database that has not been migrated.
func durationsFromAttempts(tx *bolt.Tx) (memBucket, error) {
	m := memBucket{}
	err := forEachAttempt(tx, func(a *Attempt) error { return noteDuration(m, a) })
	return m, err
}

func forEachAttempt(tx *bolt.Tx, fn func(*Attempt) error) error {
	return tx.Bucket(bucketAttempts).ForEach(func(k, v []byte) error {
		var a Attempt
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("decode attempt %s: %w", k, err)
		}
		return fn(&a)
	})
}

// memBucket is an in-memory durations bucket.
type memBucket map[string][]byte

func (m memBucket) Get(k []byte) []byte { return m[string(k)] }

func (m memBucket) Put(k, v []byte) error { m[string(k)] = v; return nil }

func (m memBucket) ForEach(fn func(k, v []byte) error) error {
	for k, v := range m {
		if err := fn([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}
