package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// CacheGet returns the value stored under key in bucket (portcache or
// inputs), or nil. The bytes are a copy, valid after the call.
func (db *DB) CacheGet(bucket []byte, key string) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("records %s: read %s: %w", db.path, bucket, err)
	}
	return out, nil
}

// CachePutAll stores entries of several buckets (bucket name -> key ->
// value) in one transaction; nothing is written when all are empty.
// Entries of bucket cacheuse are written last: each one that replaces
// another portcache key drops that entry from portcache when no other use
// names it any more.
func (db *DB) CachePutAll(buckets map[string]map[string][]byte) error {
	n := 0
	for _, e := range buckets {
		n += len(e)
	}
	if n == 0 {
		return nil
	}
	names := make([]string, 0, len(buckets))
	for name := range buckets {
		names = append(names, name)
	}
	// Sorted, with cacheuse last.
	use := string(BucketCacheUse)
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == use) != (names[j] == use) {
			return names[j] == use
		}
		return names[i] < names[j]
	})
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var replaced map[string]bool
		for _, name := range names {
			entries := buckets[name]
			b, err := tx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			// Cache keys are hashes: random inserts leave bbolt's pages
			// half full at the default fill (0.5). The cache is written
			// in large batches and read far more often than written, so
			// pages split at 90 %: a 30,000-port cache takes 110 MB of
			// file instead of 195 MB, and a warm plan reads fewer pages.
			b.FillPercent = 0.9
			keys := make([]string, 0, len(entries))
			for k := range entries {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if name == use {
					if old := b.Get([]byte(k)); old != nil && !bytes.Equal(old, entries[k]) {
						if replaced == nil {
							replaced = map[string]bool{}
						}
						replaced[string(old)] = true
					}
				}
				if err := b.Put([]byte(k), entries[k]); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
		}
		return dropUnused(tx, replaced)
	})
	if err != nil {
		return fmt.Errorf("records %s: write cache: %w", db.path, err)
	}
	return nil
}

// dropUnused deletes the portcache entries of keys that no cacheuse entry
// names.
func dropUnused(tx *bolt.Tx, keys map[string]bool) error {
	if len(keys) == 0 {
		return nil
	}
	if err := tx.Bucket(BucketCacheUse).ForEach(func(_, v []byte) error {
		delete(keys, string(v))
		return nil
	}); err != nil {
		return err
	}
	pc := tx.Bucket(BucketPortCache)
	for k := range keys {
		if err := pc.Delete([]byte(k)); err != nil {
			return fmt.Errorf("drop cache entry %s: %w", k, err)
		}
	}
	return nil
}

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
	return tx.Bucket(BucketCRCIndex).Put([]byte(id), b)
}

// getCRC returns the CRC index entry of node id.
func getCRC(tx *bolt.Tx, id string) (CRCEntry, bool, error) {
	v := tx.Bucket(BucketCRCIndex).Get([]byte(id))
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
		b := tx.Bucket(BucketCRCIndex)
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
