package record

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Operation kinds.
const (
	OpRepository     = "repository"      // a package repository built (and published)
	OpPkgClean       = "pkgclean"        // obsolete packages removed
	OpFetch          = "fetch"           // distfiles downloaded for a plan
	OpPurgeDistfiles = "purge-distfiles" // unreferenced distfiles removed
)

// Operation statuses.
const (
	OpOK     = "ok"
	OpFailed = "failed"
	// OpPartial is an operation that did part of its work (some distfiles
	// fetched, others failed).
	OpPartial = "partial"
)

// Operation is one maintenance operation on the packages or distfiles
// folders: what, when, how many, how many bytes, and how it ended.
type Operation struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	Profile string    `json:"profile,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	Status  string    `json:"status"`
	Error   string    `json:"error,omitempty"`
	// RunID is the run this operation followed (a repository built after
	// an apply), empty for one started on its own.
	RunID string `json:"run_id,omitempty"`
	// Count is how many things it handled: packages in the catalog,
	// packages or distfiles removed, distfiles fetched.
	Count int `json:"count"`
	// Bytes is the size concerned: of the catalog, or freed by a clean.
	Bytes int64 `json:"bytes"`
	// Items names what was removed, fetched or failed (each "name" or
	// "name: reason"), at most MaxOperationItems of them.
	Items []string `json:"items,omitempty"`
	// Path is the folder the operation published or cleaned (for a
	// repository: the published repository directory).
	Path string `json:"path,omitempty"`
	// Fingerprint is the signing key's SHA-256 fingerprint for a signed
	// repository.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// MaxOperationItems bounds Operation.Items so that a purge of a whole
// distfiles folder does not make one huge record.
const MaxOperationItems = 1000

func opKey(op *Operation) []byte {
	return []byte(fmt.Sprintf("%020d/%s", op.Start.UnixNano(), op.ID))
}

// RecordOperation writes op (a new one, or an update of the same ID and
// start time) in one transaction. Items beyond MaxOperationItems are cut.
func (db *DB) RecordOperation(op *Operation) error {
	if op.ID == "" || op.Kind == "" || op.Start.IsZero() {
		return fmt.Errorf("record operation: ID, kind and start are required")
	}
	if len(op.Items) > MaxOperationItems {
		n := len(op.Items) - MaxOperationItems
		op.Items = append(op.Items[:MaxOperationItems:MaxOperationItems], fmt.Sprintf("... and %d more", n))
	}
	v, err := json.Marshal(op)
	if err != nil {
		return fmt.Errorf("encode operation %s: %w", op.ID, err)
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketOperations).Put(opKey(op), v); err != nil {
			return fmt.Errorf("put operation %s: %w", op.ID, err)
		}
		return nil
	})
}

// Operations returns the recorded operations of kind (every kind when
// empty), oldest first. A database of an older schema (opened read-only)
// has none.
func (db *DB) Operations(kind string) ([]*Operation, error) {
	var out []*Operation
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOperations)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var op Operation
			if err := json.Unmarshal(v, &op); err != nil {
				return fmt.Errorf("decode operation %s: %w", k, err)
			}
			if kind == "" || op.Kind == kind {
				out = append(out, &op)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, err
}

// RunOperations returns the operations that followed run runID.
func (db *DB) RunOperations(runID string) ([]*Operation, error) {
	all, err := db.Operations("")
	if err != nil {
		return nil, err
	}
	var out []*Operation
	for _, op := range all {
		if op.RunID == runID {
			out = append(out, op)
		}
	}
	return out, nil
}

// LatestOperation returns the most recent operation of kind that ended
// with status (any status when empty), or ErrNotFound.
func (db *DB) LatestOperation(kind, status string) (*Operation, error) {
	all, err := db.Operations(kind)
	if err != nil {
		return nil, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if status == "" || all[i].Status == status {
			return all[i], nil
		}
	}
	return nil, fmt.Errorf("no %s operation recorded: %w", kind, ErrNotFound)
}

// AppendOperation records op in the records database at path (created
// if needed), opening it for this one write.
func AppendOperation(path string, op *Operation) error {
	db, err := Open(path, Options{Timeout: 30 * time.Second})
	if err != nil {
		return fmt.Errorf("record the %s operation: %w", op.Kind, err)
	}
	err = db.RecordOperation(op)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("record the %s operation: %w", op.Kind, err)
	}
	return nil
}
