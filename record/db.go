package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the schema this dsynth writes. History:
//
//	1  the first schema
//	2  adds bucket durations (latest successful build time per node),
//	   filled from the attempts by the migration from 1
//	3  adds bucket cacheuse (which metadata cache entry each profile's
//	   plans use per port), filled by the next plans
//	4  adds bucket operations (repository builds, package cleans,
//	   distfile fetches and purges), empty until the first one
const SchemaVersion = 4

// Bucket names.
var (
	bucketMeta      = []byte("meta")
	bucketPortCache = []byte("portcache")
	bucketCRCIndex  = []byte("crcindex")
	bucketRuns      = []byte("runs")
	bucketAttempts  = []byte("attempts")
	bucketPackages  = []byte("packages")
	bucketHistory   = []byte("history")
	bucketWorkers   = []byte("workers")
	bucketAPIKeys   = []byte("apikeys")
	// bucketInputs maps an input key to the JSON components it was
	// computed from (written by plan, read to explain rebuilds).
	bucketInputs = []byte("inputs")
	// bucketDurations maps a node ID to its latest successful build (end
	// time and duration), for the scheduler's expected durations.
	bucketDurations = []byte("durations")
	// bucketCacheUse maps "<profile>\x00<use>" (use: a port scan
	// origin@flavor, or sha256:<package path>) to the portcache key a plan
	// of that profile last used for it. A plan that replaces the key drops
	// the old entry unless another use still names it, so the metadata
	// cache does not grow with every edit of the tree.
	bucketCacheUse = []byte("cacheuse")
	// bucketOperations holds the maintenance operations (repository,
	// pkgclean, fetch, purge-distfiles), keyed by start time and ID.
	bucketOperations = []byte("operations")
)

var allBuckets = [][]byte{bucketMeta, bucketPortCache, bucketCRCIndex, bucketRuns,
	bucketAttempts, bucketPackages, bucketHistory, bucketWorkers, bucketAPIKeys, bucketInputs,
	bucketDurations, bucketCacheUse, bucketOperations}

var keySchema = []byte("schema_version")

// ErrLocked is returned when another process holds the database.
var ErrLocked = errors.New("another dsynth process holds the records database")

// ErrSchema is returned for a database written by a newer dsynth.
var ErrSchema = errors.New("records database schema is newer than this dsynth")

// ErrNotFile is wrapped by Open's error when the path names a directory
// or another file that is not a regular one (records = "/tmp"): it is
// not a damaged records database, and must not be moved aside as one.
var ErrNotFile = errors.New("not a records file")

// checkFile refuses a path that exists and is not a regular file.
func checkFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case err != nil || st.Mode().IsRegular():
		return nil // a missing file is created (or reported) by bbolt
	case st.IsDir():
		return fmt.Errorf("records database %s is a directory, %w: records (or -records) names the database file itself, e.g. %s",
			path, ErrNotFile, filepath.Join(path, "records.db"))
	}
	return fmt.Errorf("records database %s is not a regular file (mode %s), %w", path, st.Mode().Type(), ErrNotFile)
}

// DB is an open records database.
type DB struct {
	bolt *bolt.DB
	path string
}

// Options for Open.
type Options struct {
	// ReadOnly opens with a shared lock; no buckets are created.
	ReadOnly bool
	// Timeout bounds the wait for the file lock (default 2s).
	Timeout time.Duration
}

// Open opens (creating if needed, unless read-only) the records database at
// path and checks or initialises its schema.
func Open(path string, opt Options) (*DB, error) {
	if opt.Timeout == 0 {
		opt.Timeout = 2 * time.Second
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	if !opt.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("records %s: %w", path, err)
		}
	}
	b, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: opt.Timeout, ReadOnly: opt.ReadOnly})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("records %s: %w (waited %s)", path, ErrLocked, opt.Timeout)
		}
		return nil, fmt.Errorf("records %s: %w", path, err)
	}
	db := &DB{bolt: b, path: path}
	if err := db.initSchema(opt.ReadOnly); err != nil {
		b.Close()
		return nil, fmt.Errorf("records %s: %w", path, err)
	}
	return db, nil
}

func (db *DB) initSchema(readOnly bool) error {
	check := func(tx *bolt.Tx) (uint32, bool) {
		m := tx.Bucket(bucketMeta)
		if m == nil {
			return 0, false
		}
		v := m.Get(keySchema)
		if len(v) != 4 {
			return 0, false
		}
		return binary.BigEndian.Uint32(v), true
	}
	if readOnly {
		return db.bolt.View(func(tx *bolt.Tx) error {
			v, ok := check(tx)
			if ok && v > SchemaVersion {
				return fmt.Errorf("%w: database has %d, dsynth knows %d", ErrSchema, v, SchemaVersion)
			}
			return nil
		})
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		v, ok := check(tx)
		if ok && v > SchemaVersion {
			return fmt.Errorf("%w: database has %d, dsynth knows %d", ErrSchema, v, SchemaVersion)
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if ok && v < SchemaVersion {
			if err := migrate(tx, v); err != nil {
				return err
			}
		}
		if !ok || v < SchemaVersion {
			buf := make([]byte, 4)
			binary.BigEndian.PutUint32(buf, SchemaVersion)
			return tx.Bucket(bucketMeta).Put(keySchema, buf)
		}
		return nil
	})
}

// migrations[v] upgrades a database of schema v to v+1. They run in order
// in the one write transaction that opens the file, after the buckets of
// the current schema exist: a failing step rolls everything back and the
// file keeps its old version.
var migrations = map[uint32]func(tx *bolt.Tx) error{
	1: fillDurations,
	// Bucket cacheuse is created empty by initSchema; plans fill it.
	2: func(*bolt.Tx) error { return nil },
	// Bucket operations is created empty by initSchema.
	3: func(*bolt.Tx) error { return nil },
}

// migrate upgrades a database from schema version from to SchemaVersion
// inside tx.
func migrate(tx *bolt.Tx, from uint32) error {
	for v := from; v < SchemaVersion; v++ {
		step, ok := migrations[v]
		if !ok {
			return fmt.Errorf("no migration from schema %d to %d", v, v+1)
		}
		if err := step(tx); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	return nil
}

// Path returns the database file path.
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error { return db.bolt.Close() }
