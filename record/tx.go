package record

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Tx is a batch of typed writes that land together, or not at all:
// imports and test fixtures (the writes of a run are DB methods, see
// writes.go). Callers never see the storage engine.
type Tx struct{ tx *bolt.Tx }

// Write runs fn in one write transaction (fsynced when it commits).
func (db *DB) Write(fn func(*Tx) error) error {
	return db.bolt.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx}) })
}

// PutRun writes run r.
func (t *Tx) PutRun(r *Run) error { return putRun(t.tx, r) }

// PutAttempt writes attempt a and its history keys.
func (t *Tx) PutAttempt(a *Attempt) error { return putAttempt(t.tx, a) }

// PutWorker writes a worker's state in its run.
func (t *Tx) PutWorker(w *Worker) error { return putWorker(t.tx, w) }

// PutCRC records node id's CRC index entry.
func (t *Tx) PutCRC(id string, e CRCEntry) error { return putCRC(t.tx, id, e) }

// PutPackage records p as the latest successful package of its node.
func (t *Tx) PutPackage(p Package) error { return putPackage(t.tx, p) }

// BucketCounts returns the number of entries of every bucket, by name.
func (db *DB) BucketCounts() (map[string]int, error) {
	out := map[string]int{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if bk := tx.Bucket(b); bk != nil {
				out[string(b)] = bk.Stats().KeyN
			}
		}
		return nil
	})
	return out, err
}

// CachedScans counts the port metadata entries of the planner's cache
// (package hashes not included).
func (db *DB) CachedScans() (int, error) {
	n := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPortCache)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			if !bytes.HasPrefix(k, packageKeyPrefix) {
				n++
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("records %s: %w", db.path, err)
	}
	return n, nil
}
