package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Snapshot is a copy of what the planner reads from the records (the port
// metadata cache and which entries each profile uses, the input
// components, the latest packages and the CRC index), taken in short
// read-only transactions. A scan can take minutes; planning from a
// snapshot never holds the database's lock while make runs, so a
// concurrent apply's writes and readers such as `dsynth status` are not
// held up. UpdateCache opens the database just long enough to write.
//
// The metadata cache and the input components are most of the records (a
// 30,000-port tree has about 125 MB of them) and a plan reads each entry
// at most once, so they are not kept in memory: the snapshot spills them
// to an unlinked temporary file (next to the records, else in TMPDIR) and
// keeps only an index, reading an entry back when the planner asks for
// it. They are copied when the planner first asks for one (a plan that
// reuses the last one asks for none), and 2 MB per transaction (maxSnapshotTx), the database
// closed in between (bbolt maps the file: pages read in one open stay in
// the process's resident set until it is closed), so the copy is not one
// point in time; the cache is keyed by content, so an entry written or
// dropped meanwhile is at worst a cache miss. The packages, the CRC index
// and the uses are read in one transaction and kept in memory.
type Snapshot struct {
	path    string
	timeout time.Duration

	// spilled copies the cache and the inputs into spill, once, when
	// first needed; spillErr is how that went.
	spilled  sync.Once
	spillErr error

	mu sync.RWMutex
	// spill holds the spilled values; size is its length.
	spill *os.File
	size  int64
	// cache indexes the portcache entries (scans and package hashes) in
	// spill, inputs the input components.
	cache, inputs *sumIndex[span]
	// uses are the cacheuse entries.
	uses     *useIndex
	packages map[string]Package
	crcs     map[string]CRCEntry
	// empty is true when there was no database to copy.
	empty bool
}

// span is where a spilled value is.
type span struct {
	off int64
	n   int
}

// maxSnapshotTx bounds the value bytes copied per read transaction.
var maxSnapshotTx = 2 << 20

// LoadSnapshot copies the planner's view of the records database at path.
// A missing file gives an empty snapshot (UpdateCache creates it). timeout
// bounds the wait for a writer holding the lock (default 30s). Close
// releases the snapshot's temporary file.
func LoadSnapshot(path string, timeout time.Duration) (*Snapshot, error) {
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	s := &Snapshot{path: path, timeout: timeout, empty: true, cache: &sumIndex[span]{}, inputs: &sumIndex[span]{},
		uses: &useIndex{}, packages: map[string]Package{}, crcs: map[string]CRCEntry{}}
	// A missing or empty file (created and never written) holds nothing
	// yet; UpdateCache makes it a database.
	if st, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) || (err == nil && st.Mode().IsRegular() && st.Size() == 0) {
		return s, nil
	}
	if err := s.view(func(tx *bolt.Tx) error { return s.loadSmall(tx) }); err != nil {
		return nil, fmt.Errorf("records %s: snapshot: %w", path, err)
	}
	s.empty = false
	return s, nil
}

// spillOnce spills the cache and the inputs the first time it is called
// (see Snapshot); s.mu must not be held.
func (s *Snapshot) spillOnce() error {
	s.spilled.Do(func() {
		if s.empty {
			return
		}
		if err := s.spillBuckets(); err != nil {
			s.spillErr = fmt.Errorf("records %s: snapshot: %w", s.path, err)
		}
	})
	return s.spillErr
}

// view runs fn in a read-only transaction of its own open of the file.
func (s *Snapshot) view(fn func(*bolt.Tx) error) error {
	db, err := Open(s.path, Options{ReadOnly: true, Timeout: s.timeout})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.bolt.View(fn)
}

// loadSmall reads the uses, the packages and the CRC index.
func (s *Snapshot) loadSmall(tx *bolt.Tx) error {
	if b := tx.Bucket(bucketCacheUse); b != nil {
		if err := b.ForEach(func(k, v []byte) error {
			s.uses.load(k, v)
			return nil
		}); err != nil {
			return err
		}
	}
	if b := tx.Bucket(bucketPackages); b != nil {
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
	if b := tx.Bucket(bucketCRCIndex); b != nil {
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
}

// spillBuckets copies portcache and inputs into the spill file,
// maxSnapshotTx bytes per transaction.
func (s *Snapshot) spillBuckets() error {
	for _, b := range []struct {
		name []byte
		idx  *sumIndex[span]
	}{{bucketPortCache, s.cache}, {bucketInputs, s.inputs}} {
		var last []byte // the last key copied; nil before the first
		for done := false; !done; {
			err := s.view(func(tx *bolt.Tx) error {
				bk := tx.Bucket(b.name)
				if bk == nil {
					done = true
					return nil
				}
				c := bk.Cursor()
				var k, v []byte
				if last == nil {
					k, v = c.First()
				} else if k, v = c.Seek(last); k != nil && bytes.Equal(k, last) {
					k, v = c.Next()
				}
				if k != nil && s.spill == nil {
					if err := s.createSpill(); err != nil {
						return err
					}
				}
				w := bufio.NewWriterSize(&offsetWriter{s.spill, s.size}, 1<<20)
				n := 0
				for ; k != nil && n < maxSnapshotTx; k, v = c.Next() {
					if _, err := w.Write(v); err != nil {
						return fmt.Errorf("spill: %w", err)
					}
					b.idx.load(string(k), span{s.size, len(v)})
					s.size += int64(len(v))
					n += len(v)
					last = append(last[:0], k...)
				}
				done = k == nil
				if err := w.Flush(); err != nil {
					return fmt.Errorf("spill: %w", err)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// createSpill makes the spill file: next to the records (the build base,
// on disk), else in TMPDIR. It is unlinked at once, so that nothing is
// left behind whatever happens to the process.
func (s *Snapshot) createSpill() error {
	f, err := os.CreateTemp(filepath.Dir(s.path), ".records-snapshot-*")
	if err != nil {
		if f, err = os.CreateTemp("", "dsynth-records-snapshot-*"); err != nil {
			return fmt.Errorf("snapshot file: %w", err)
		}
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return fmt.Errorf("snapshot file: %w", err)
	}
	s.spill = f
	return nil
}

// offsetWriter writes at increasing offsets of f.
type offsetWriter struct {
	f   *os.File
	off int64
}

func (w *offsetWriter) Write(b []byte) (int, error) {
	n, err := w.f.WriteAt(b, w.off)
	w.off += int64(n)
	return n, err
}

// read returns the spilled value at sp.
func (s *Snapshot) read(sp span) ([]byte, error) {
	b := make([]byte, sp.n)
	if _, err := s.spill.ReadAt(b, sp.off); err != nil {
		return nil, fmt.Errorf("records %s: snapshot: %w", s.path, err)
	}
	return b, nil
}

// get returns the value of idx's key, or nil.
func (s *Snapshot) get(idx *sumIndex[span], key string) ([]byte, error) {
	if err := s.spillOnce(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if idx == nil {
		return nil, nil // closed
	}
	sp, ok := idx.get(key)
	if !ok {
		return nil, nil
	}
	return s.read(sp)
}

// usesKey reports whether profile's plans use entry key for use.
func (s *Snapshot) usesKey(profile, use, key string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.uses != nil && s.uses.is(useKey(profile, use), key)
}

// Scan returns the port metadata cached under key (nil when there is
// none) and whether profile's plans already use that entry for scan
// (origin@flavor), as of the snapshot and its own writes.
func (s *Snapshot) Scan(profile, scan, key string) ([]byte, bool, error) {
	v, err := s.get(s.cache, key)
	return v, s.usesKey(profile, scan, key), err
}

// PackageHash returns the cached hex SHA-256 of f ("" when there is none)
// and whether profile's plans already use that entry for f's path.
func (s *Snapshot) PackageHash(profile string, f PackageFile) (string, bool, error) {
	v, err := s.get(s.cache, f.key())
	return string(v), s.usesKey(profile, f.use(), f.key()), err
}

// HasInputs reports whether the components of input key are stored.
func (s *Snapshot) HasInputs(key string) (bool, error) {
	if err := s.spillOnce(); err != nil {
		return false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.inputs == nil {
		return false, nil // closed
	}
	_, ok := s.inputs.get(key)
	return ok, nil
}

// Inputs returns the stored components (JSON) of input key, or nil.
func (s *Snapshot) Inputs(key string) ([]byte, error) { return s.get(s.inputs, key) }

// UpdateCache writes u to the database (see DB.UpdateCache), opening it
// for each transaction (maxCacheTx) and closing it in between, and
// keeps u in the snapshot. Nothing is written when u is empty.
func (s *Snapshot) UpdateCache(u *CacheUpdate) error {
	s.mu.RLock()
	closed := s.uses == nil
	s.mu.RUnlock()
	if closed {
		return fmt.Errorf("records %s: snapshot already closed", s.path)
	}
	if err := s.spillOnce(); err != nil {
		return err
	}
	puts := u.puts()
	for _, c := range chunks(puts) {
		db, err := Open(s.path, Options{Timeout: s.timeout})
		if err != nil {
			return err
		}
		err = db.bolt.Update(func(tx *bolt.Tx) error { return writePuts(tx, c) })
		cerr := db.Close()
		if err != nil {
			return fmt.Errorf("records %s: write cache: %w", s.path, err)
		}
		if cerr != nil {
			return fmt.Errorf("records %s: %w", s.path, cerr)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range puts {
		switch {
		case bytes.Equal(p.bucket, bucketCacheUse):
			s.uses.set(p.key, string(p.value))
		default:
			idx := s.cache
			if bytes.Equal(p.bucket, bucketInputs) {
				idx = s.inputs
			}
			if s.spill == nil {
				if err := s.createSpill(); err != nil {
					return err
				}
			}
			if _, err := s.spill.WriteAt(p.value, s.size); err != nil {
				return fmt.Errorf("records %s: snapshot: %w", s.path, err)
			}
			idx.set(p.key, span{s.size, len(p.value)})
			s.size += int64(len(p.value))
		}
	}
	return nil
}

// Path is the records database the snapshot was taken of.
func (s *Snapshot) Path() string { return s.path }

// Packages returns the latest package of every node, as of the snapshot.
func (s *Snapshot) Packages() (map[string]Package, error) { return s.packages, nil }

// CRCIndex returns the CRC index, as of the snapshot.
func (s *Snapshot) CRCIndex() (map[string]CRCEntry, error) { return s.crcs, nil }

// Close releases the snapshot's temporary file and its memory: it reads
// as empty afterwards.
func (s *Snapshot) Close() error {
	s.spilled.Do(func() {}) // none after this (one under way is waited for)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cache, s.inputs, s.uses = nil, nil, nil
	s.packages, s.crcs = nil, nil
	if s.spill == nil {
		return nil
	}
	err := s.spill.Close()
	s.spill = nil
	return err
}

// sumIndex maps keys to values of V in little memory. Nearly all keys are
// lower-case hex SHA-256 and the copy reads them in order: those are kept
// as their 32 bytes in a sorted slice (a 30,000-port cache is indexed in
// about 1.5 MB); other keys, and keys set after the copy, in a map.
type sumIndex[V any] struct {
	sorted []sumEntry[V]
	more   map[string]V
}

type sumEntry[V any] struct {
	sum [32]byte
	v   V
}

// load adds k, in increasing key order (a cursor's).
func (x *sumIndex[V]) load(k string, v V) {
	if b, ok := sumKey(k); ok && (len(x.sorted) == 0 || bytes.Compare(x.sorted[len(x.sorted)-1].sum[:], b[:]) < 0) {
		x.sorted = append(x.sorted, sumEntry[V]{b, v})
		return
	}
	x.set(k, v)
}

// set sets k, in any order.
func (x *sumIndex[V]) set(k string, v V) {
	if x.more == nil {
		x.more = map[string]V{}
	}
	x.more[k] = v
}

func (x *sumIndex[V]) get(k string) (V, bool) {
	if v, ok := x.more[k]; ok {
		return v, true
	}
	var zero V
	b, ok := sumKey(k)
	if !ok {
		return zero, false
	}
	i, found := slices.BinarySearchFunc(x.sorted, b, func(e sumEntry[V], b [32]byte) int { return bytes.Compare(e.sum[:], b[:]) })
	if !found {
		return zero, false
	}
	return x.sorted[i].v, true
}

// useIndex is the cacheuse entries in little memory: loaded in key order,
// the keys concatenated in one string and the values (nearly all hex
// SHA-256) as their 32 bytes; other values, and entries set after the
// copy, in a map.
type useIndex struct {
	keys   []byte
	sorted []useEntry
	more   map[string]string
}

type useEntry struct {
	off, n uint32
	sum    [32]byte
}

func (x *useIndex) key(e useEntry) []byte { return x.keys[e.off : e.off+e.n] }

// load adds k -> v, in increasing key order (a cursor's).
func (x *useIndex) load(k, v []byte) {
	b, ok := sumKey(string(v))
	if ok && len(x.keys)+len(k) < 1<<32 && (len(x.sorted) == 0 || bytes.Compare(x.key(x.sorted[len(x.sorted)-1]), k) < 0) {
		x.sorted = append(x.sorted, useEntry{uint32(len(x.keys)), uint32(len(k)), b})
		x.keys = append(x.keys, k...)
		return
	}
	x.set(string(k), string(v))
}

// set sets k -> v, in any order.
func (x *useIndex) set(k, v string) {
	if x.more == nil {
		x.more = map[string]string{}
	}
	x.more[k] = v
}

// is reports whether the value of k is v.
func (x *useIndex) is(k, v string) bool {
	if cur, ok := x.more[k]; ok {
		return cur == v
	}
	b, ok := sumKey(v)
	if !ok {
		return false
	}
	i, found := slices.BinarySearchFunc(x.sorted, k, func(e useEntry, k string) int { return bytes.Compare(x.key(e), []byte(k)) })
	return found && x.sorted[i].sum == b
}

// sumKey returns the bytes of a lower-case hex SHA-256 (the form dsynth
// writes, so that they turn back into the same key).
func sumKey(k string) ([32]byte, bool) {
	var b [32]byte
	if len(k) != 64 {
		return b, false
	}
	for i := range 64 {
		c := k[i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		default:
			return b, false
		}
		b[i/2] |= v << (4 * (1 - i%2))
	}
	return b, true
}
