package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Worker is the activity of one worker of a run (bucket workers, keyed by
// "<run ID>/<worker, 3 digits>"). apply writes it when the worker starts
// or finishes a port; the phase of a running port is in the live status
// file (see execute.Status), which changes too often for fsynced writes.
type Worker struct {
	RunID  string `json:"run_id"`
	Worker int    `json:"worker"`
	// State is "building" or "idle".
	State string `json:"state"`
	// NodeID is the port being built (when building) or last built.
	NodeID string    `json:"node_id,omitempty"`
	Since  time.Time `json:"since"`
	Built  int       `json:"built"`
	Failed int       `json:"failed"`
	// Busy is the total time spent building ports.
	Busy time.Duration `json:"busy"`
}

func workerKey(runID string, n int) []byte { return []byte(fmt.Sprintf("%s/%03d", runID, n)) }

// putWorker writes w.
func putWorker(tx *bolt.Tx, w *Worker) error {
	b, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("encode worker %d: %w", w.Worker, err)
	}
	return tx.Bucket(bucketWorkers).Put(workerKey(w.RunID, w.Worker), b)
}

// RunWorkers returns the workers of run id, by number.
func (db *DB) RunWorkers(runID string) ([]*Worker, error) {
	var out []*Worker
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketWorkers).Cursor()
		p := []byte(runID + "/")
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var w Worker
			if err := json.Unmarshal(v, &w); err != nil {
				return fmt.Errorf("decode worker %s: %w", k, err)
			}
			out = append(out, &w)
		}
		return nil
	})
	return out, err
}
