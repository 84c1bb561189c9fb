package record

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// CRCEntry is the CRC index entry of a node (bucket crcindex): the CRC32
// and input key of its last successful build, as dsynth's CRC database
// keeps it. apply writes it with the package record.
type CRCEntry struct {
	CRC32    string `json:"crc32"`
	InputKey string `json:"input_key"`
}

// putCRC records the CRC index entry of node id.
func putCRC(tx *bolt.Tx, id string, e CRCEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode crc %s: %w", id, err)
	}
	return tx.Bucket(bucketCRCIndex).Put([]byte(id), b)
}

// getCRC returns the CRC index entry of node id.
func getCRC(tx *bolt.Tx, id string) (CRCEntry, bool, error) {
	v := tx.Bucket(bucketCRCIndex).Get([]byte(id))
	if v == nil {
		return CRCEntry{}, false, nil
	}
	var e CRCEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return CRCEntry{}, false, fmt.Errorf("decode crc %s: %w", id, err)
	}
	return e, true, nil
}

// CRCIndex returns every CRC index entry, keyed by node ID.
func (db *DB) CRCIndex() (map[string]CRCEntry, error) {
	out := map[string]CRCEntry{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCRCIndex)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var e CRCEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode crc %s: %w", k, err)
			}
			out[string(k)] = e
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("records %s: %w", db.path, err)
	}
	return out, nil
}
