package record

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// The planner's cache: port metadata by scan key (bucket portcache), the
// SHA-256 of package files (portcache too, under "sha256:" keys), input
// components by input key (inputs) and which entry each profile's plans
// use for each scan and package (cacheuse). *DB and *Snapshot implement
// the same operations; the planner never sees the buckets.

// packageKeyPrefix starts the portcache keys of package hashes.
var packageKeyPrefix = []byte("sha256:")

// PackageFile names a package file's content for the package hash cache:
// its path, size and modification time (unix nanoseconds). A changed size
// or time is another entry.
type PackageFile struct {
	Path          string
	Size, ModTime int64
}

// key is f's portcache key.
func (f PackageFile) key() string {
	return string(packageKeyPrefix) + f.Path + "\x00" + strconv.FormatInt(f.Size, 10) + "\x00" + strconv.FormatInt(f.ModTime, 10)
}

// use is the cacheuse name of f's path.
func (f PackageFile) use() string { return string(packageKeyPrefix) + f.Path }

// useKey is the cacheuse key of profile's use.
func useKey(profile, use string) string { return profile + "\x00" + use }

// CacheUpdate is what a plan adds to the planner's cache. Entries already
// stored are overwritten; a use that replaces another entry drops that
// entry unless another use (of any profile) still names it, so the cache
// does not grow with every edit of the tree.
type CacheUpdate struct {
	// Profile is the profile whose plan uses the entries.
	Profile string
	// Scans are new port metadata entries by scan key.
	Scans map[string][]byte
	// ScanUses maps each scan (origin@flavor, as the planner names it)
	// to the scan key Profile's plans now use for it.
	ScanUses map[string]string
	// PackageHashes are new package hashes (hex SHA-256).
	PackageHashes map[PackageFile]string
	// PackageUses are the package files whose hash entry Profile's plans
	// now use.
	PackageUses []PackageFile
	// Inputs are new input components (JSON) by input key.
	Inputs map[string][]byte
}

// Len is the number of entries u writes.
func (u *CacheUpdate) Len() int {
	return len(u.Scans) + len(u.ScanUses) + len(u.PackageHashes) + len(u.PackageUses) + len(u.Inputs)
}

// cachePut is one entry of a CacheUpdate.
type cachePut struct {
	bucket []byte
	key    string
	value  []byte
}

// maxCacheTx bounds the value bytes of one cache write transaction: a
// cold plan of a large tree writes over a hundred megabytes, and one
// transaction would hold all of its pages in memory at once. It is small
// because the keys are random: each new entry reads another leaf page of
// the mapped file, and Linux maps up to 16 pages around each page read,
// all counted in the process's resident set until the file is closed
// (with 4 MB transactions a cold 30,000-port plan peaked 70 MB higher).
var maxCacheTx = 512 << 10

// puts flattens u in write order, each bucket sorted: portcache, inputs,
// then cacheuse (a use is written with or after the entry it names).
func (u *CacheUpdate) puts() []cachePut {
	out := make([]cachePut, 0, u.Len())
	for _, k := range sortedKeys(u.Scans) {
		out = append(out, cachePut{bucketPortCache, k, u.Scans[k]})
	}
	var pk []cachePut
	for f, sum := range u.PackageHashes {
		pk = append(pk, cachePut{bucketPortCache, f.key(), []byte(sum)})
	}
	sort.Slice(pk, func(i, j int) bool { return pk[i].key < pk[j].key })
	out = append(out, pk...)
	for _, k := range sortedKeys(u.Inputs) {
		out = append(out, cachePut{bucketInputs, k, u.Inputs[k]})
	}
	var uses []cachePut
	for s, key := range u.ScanUses {
		uses = append(uses, cachePut{bucketCacheUse, useKey(u.Profile, s), []byte(key)})
	}
	for _, f := range u.PackageUses {
		uses = append(uses, cachePut{bucketCacheUse, useKey(u.Profile, f.use()), []byte(f.key())})
	}
	sort.Slice(uses, func(i, j int) bool { return uses[i].key < uses[j].key })
	return append(out, uses...)
}

// chunks splits puts into transactions of at most maxCacheTx value bytes.
func chunks(puts []cachePut) [][]cachePut {
	var out [][]cachePut
	start, n := 0, 0
	for i, p := range puts {
		if i > start && n+len(p.value) > maxCacheTx {
			out = append(out, puts[start:i])
			start, n = i, 0
		}
		n += len(p.value)
	}
	if start < len(puts) {
		out = append(out, puts[start:])
	}
	return out
}

// writePuts stores one chunk in tx. A cacheuse entry that replaces another
// key drops that key from portcache when no cacheuse entry names it any
// more.
func writePuts(tx *bolt.Tx, puts []cachePut) error {
	var replaced map[string]bool
	for _, p := range puts {
		b, err := tx.CreateBucketIfNotExists(p.bucket)
		if err != nil {
			return err
		}
		// Cache keys are hashes: random inserts leave bbolt's pages half
		// full at the default fill (0.5). The cache is written in large
		// batches and read far more often than written, so pages split
		// at 90 %: a 30,000-port cache takes 110 MB of file instead of
		// 195 MB, and a warm plan reads fewer pages.
		b.FillPercent = 0.9
		if bytes.Equal(p.bucket, bucketCacheUse) {
			if old := b.Get([]byte(p.key)); old != nil && !bytes.Equal(old, p.value) {
				if replaced == nil {
					replaced = map[string]bool{}
				}
				replaced[string(old)] = true
			}
		}
		if err := b.Put([]byte(p.key), p.value); err != nil {
			return fmt.Errorf("%s: %w", p.bucket, err)
		}
	}
	return dropUnused(tx, replaced)
}

// dropUnused deletes the portcache entries of keys that no cacheuse entry
// names.
func dropUnused(tx *bolt.Tx, keys map[string]bool) error {
	if len(keys) == 0 {
		return nil
	}
	if err := tx.Bucket(bucketCacheUse).ForEach(func(_, v []byte) error {
		delete(keys, string(v))
		return nil
	}); err != nil {
		return err
	}
	pc := tx.Bucket(bucketPortCache)
	if pc == nil {
		return nil
	}
	for k := range keys {
		if err := pc.Delete([]byte(k)); err != nil {
			return fmt.Errorf("drop cache entry %s: %w", k, err)
		}
	}
	return nil
}

// UpdateCache writes u, in transactions of maxCacheTx each (a cold
// plan of a large tree writes hundreds). Nothing is written when u is
// empty.
func (db *DB) UpdateCache(u *CacheUpdate) error {
	for _, c := range chunks(u.puts()) {
		if err := db.bolt.Update(func(tx *bolt.Tx) error { return writePuts(tx, c) }); err != nil {
			return fmt.Errorf("records %s: write cache: %w", db.path, err)
		}
	}
	return nil
}

// get returns a copy of bucket's value under key, or nil.
func (db *DB) get(bucket []byte, key string) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucket); b != nil {
			if v := b.Get([]byte(key)); v != nil {
				out = append([]byte(nil), v...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("records %s: read %s: %w", db.path, bucket, err)
	}
	return out, nil
}

// uses reports whether profile's plans use entry key for use.
func (db *DB) uses(profile, use, key string) (bool, error) {
	v, err := db.get(bucketCacheUse, useKey(profile, use))
	return v != nil && string(v) == key, err
}

// Scan returns the port metadata cached under key (nil when there is
// none) and whether profile's plans already use that entry for scan
// (origin@flavor).
func (db *DB) Scan(profile, scan, key string) ([]byte, bool, error) {
	v, err := db.get(bucketPortCache, key)
	if err != nil {
		return nil, false, err
	}
	used, err := db.uses(profile, scan, key)
	return v, used, err
}

// PackageHash returns the cached hex SHA-256 of f ("" when there is none)
// and whether profile's plans already use that entry for f's path.
func (db *DB) PackageHash(profile string, f PackageFile) (string, bool, error) {
	v, err := db.get(bucketPortCache, f.key())
	if err != nil {
		return "", false, err
	}
	used, err := db.uses(profile, f.use(), f.key())
	return string(v), used, err
}

// HasInputs reports whether the components of input key are stored.
func (db *DB) HasInputs(key string) (bool, error) {
	v, err := db.get(bucketInputs, key)
	return v != nil, err
}

// Inputs returns the stored components (JSON) of input key, or nil.
func (db *DB) Inputs(key string) ([]byte, error) { return db.get(bucketInputs, key) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
