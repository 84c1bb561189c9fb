package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Snapshot is an in-memory copy of what the planner reads from the records
// (the port metadata cache and which entries each profile uses, the input
// components, the latest packages and the CRC index), taken in one short read-only transaction. A scan can take
// minutes; planning from a snapshot never holds the database's lock while
// make runs, so a concurrent apply's writes and readers such as `dsynth
// status` are not held up. CachePutAll opens the database just long enough
// to write.
type Snapshot struct {
	path     string
	timeout  time.Duration
	buckets  map[string]map[string][]byte
	packages map[string]Package
	crcs     map[string]CRCEntry
}

// snapshotBuckets are the cache buckets a Snapshot copies.
var snapshotBuckets = [][]byte{BucketPortCache, BucketInputs, BucketCacheUse}

// LoadSnapshot copies the planner's view of the records database at path.
// A missing file gives an empty snapshot (CachePutAll creates it). timeout
// bounds the wait for a writer holding the lock (default 30s).
func LoadSnapshot(path string, timeout time.Duration) (*Snapshot, error) {
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	s := &Snapshot{path: path, timeout: timeout, buckets: map[string]map[string][]byte{},
		packages: map[string]Package{}, crcs: map[string]CRCEntry{}}
	for _, b := range snapshotBuckets {
		s.buckets[string(b)] = map[string][]byte{}
	}
	// A missing or empty file (created and never written) holds nothing
	// yet; CachePutAll makes it a database.
	if st, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) || (err == nil && st.Mode().IsRegular() && st.Size() == 0) {
		return s, nil
	}
	db, err := Open(path, Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	err = db.bolt.View(func(tx *bolt.Tx) error {
		for _, name := range snapshotBuckets {
			b := tx.Bucket(name)
			if b == nil {
				continue
			}
			m := s.buckets[string(name)]
			if err := b.ForEach(func(k, v []byte) error {
				m[string(k)] = append([]byte(nil), v...)
				return nil
			}); err != nil {
				return err
			}
		}
		if b := tx.Bucket(BucketPackages); b != nil {
			if err := b.ForEach(func(k, v []byte) error {
				var p Package
				if err := json.Unmarshal(v, &p); err != nil {
					return fmt.Errorf("decode package %s: %w", k, err)
				}
				s.packages[string(k)] = p
				return nil
			}); err != nil {
				return err
			}
		}
		if b := tx.Bucket(BucketCRCIndex); b != nil {
			return b.ForEach(func(k, v []byte) error {
				var e CRCEntry
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decode crc %s: %w", k, err)
				}
				s.crcs[string(k)] = e
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("records %s: snapshot: %w", path, err)
	}
	return s, nil
}

// CacheGet returns the value under key in bucket (portcache or inputs), or nil.
func (s *Snapshot) CacheGet(bucket []byte, key string) ([]byte, error) {
	return s.buckets[string(bucket)][key], nil
}

// CachePutAll writes entries (bucket name -> key -> value) to the database
// in one short transaction and keeps them in the snapshot.
func (s *Snapshot) CachePutAll(buckets map[string]map[string][]byte) error {
	n := 0
	for _, e := range buckets {
		n += len(e)
	}
	if n == 0 {
		return nil
	}
	db, err := Open(s.path, Options{Timeout: s.timeout})
	if err != nil {
		return err
	}
	if err := db.CachePutAll(buckets); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("records %s: %w", s.path, err)
	}
	for name, entries := range buckets {
		m := s.buckets[name]
		if m == nil {
			m = map[string][]byte{}
			s.buckets[name] = m
		}
		for k, v := range entries {
			m[k] = v
		}
	}
	return nil
}

// Packages returns the latest package of every node, as of the snapshot.
func (s *Snapshot) Packages() (map[string]Package, error) { return s.packages, nil }

// CRCIndex returns the CRC index, as of the snapshot.
func (s *Snapshot) CRCIndex() (map[string]CRCEntry, error) { return s.crcs, nil }
