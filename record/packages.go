package record

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Package is the latest successful package of a node (bucket packages,
// keyed by node ID). apply writes it after a successful build; plan reads
// it to decide whether a node is up to date.
type Package struct {
	// NodeID is the plan node ID (origin or origin@flavor).
	NodeID   string `json:"node_id"`
	InputKey string `json:"input_key"`
	CRC32    string `json:"crc32"`
	Version  string `json:"version"`
	// PkgFile is the package file name under packages_dir/All.
	PkgFile string `json:"pkgfile"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	// AttemptID and RunID name the build attempt that produced it.
	AttemptID string `json:"attempt_id"`
	RunID     string `json:"run_id"`
	// Built is the RFC 3339 time the package was finished.
	Built string `json:"built"`
}

// putPackage records p as the latest successful package of p.NodeID.
func putPackage(tx *bolt.Tx, p Package) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode package %s: %w", p.NodeID, err)
	}
	return tx.Bucket(bucketPackages).Put([]byte(p.NodeID), b)
}

// Packages returns every latest package, keyed by node ID.
func (db *DB) Packages() (map[string]Package, error) {
	out := map[string]Package{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPackages).ForEach(func(k, v []byte) error {
			var p Package
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decode package %s: %w", k, err)
			}
			out[string(k)] = p
			return nil
		})
	})
	return out, err
}
