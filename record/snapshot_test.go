package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A snapshot holds no lock: a writer can open the database while a plan
// works from it, and the snapshot's writes reach the file.
func TestSnapshotHoldsNoLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	// Missing file: an empty snapshot whose writes create the database.
	s, err := LoadSnapshot(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateCache(&CacheUpdate{Profile: "p", Scans: map[string][]byte{"k1": []byte("v1")}, ScanUses: map[string]string{"a/b@": "k1"}}); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := putPackage(tx, Package{NodeID: "a/b", InputKey: "ik", PkgFile: "b-1.pkg"}); err != nil {
			return err
		}
		return putCRC(tx, "a/b", CRCEntry{CRC32: "00000001", InputKey: "ik"})
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = LoadSnapshot(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The database is free while the snapshot is in use.
	db, err = Open(path, Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open while a snapshot is in use: %v", err)
	}
	db.Close()
	defer s.Close()
	if v, used, err := s.Scan("p", "a/b@", "k1"); string(v) != "v1" || !used || err != nil {
		t.Errorf("Scan k1 = %q, used %v, %v; want v1, used", v, used, err)
	}
	if _, used, _ := s.Scan("other", "a/b@", "k1"); used {
		t.Error("Scan: profile other uses k1")
	}
	pk, _ := s.Packages()
	crc, _ := s.CRCIndex()
	if pk["a/b"].PkgFile != "b-1.pkg" || crc["a/b"].CRC32 != "00000001" {
		t.Errorf("packages %v, crc index %v", pk, crc)
	}
	// A writer holding the lock makes UpdateCache wait, then fail clearly.
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s.timeout = 100 * time.Millisecond
	if err := s.UpdateCache(&CacheUpdate{Inputs: map[string][]byte{"k": []byte("v")}}); !errors.Is(err, ErrLocked) {
		t.Errorf("UpdateCache while another writer held the database: %v, want ErrLocked", err)
	}
}

func TestSnapshotOfEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	os.WriteFile(path, nil, 0o644)
	s, err := LoadSnapshot(path, time.Second)
	if err != nil {
		t.Fatalf("snapshot of an empty file: %v", err)
	}
	if err := s.UpdateCache(&CacheUpdate{Scans: map[string][]byte{"k": []byte("v")}}); err != nil {
		t.Fatalf("first write into an empty file: %v", err)
	}
	s2, err := LoadSnapshot(path, time.Second)
	if err != nil {
		t.Fatalf("reloaded: %v", err)
	}
	defer s2.Close()
	if v, _, err := s2.Scan("p", "a/b@", "k"); string(v) != "v" || err != nil {
		t.Fatalf("reloaded: %q, %v", v, err)
	}
}

// A snapshot of more than one transaction's worth (copied in several
// transactions, the file closed in between) holds every entry; written
// entries are read back, and chunked writes land in full.
func TestSnapshotManyEntries(t *testing.T) {
	defer func(a, b int) { maxSnapshotTx, maxCacheTx = a, b }(maxSnapshotTx, maxCacheTx)
	maxSnapshotTx, maxCacheTx = 100, 100
	path := filepath.Join(t.TempDir(), "records.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := &CacheUpdate{Profile: "p", Scans: map[string][]byte{}, ScanUses: map[string]string{}, Inputs: map[string][]byte{},
		PackageHashes: map[PackageFile]string{}}
	for i := range 50 {
		k := fmt.Sprintf("key%02d", i)
		u.Scans[k] = []byte("scan of " + k)
		u.ScanUses[fmt.Sprintf("cat/port%02d@", i)] = k
		u.Inputs[k] = []byte("inputs of " + k)
		f := PackageFile{Path: fmt.Sprintf("/pk/p%02d.pkg", i), Size: int64(i), ModTime: 7}
		u.PackageHashes[f] = "sum" + k
		u.PackageUses = append(u.PackageUses, f)
	}
	if err := db.UpdateCache(u); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := LoadSnapshot(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(s *Snapshot, i int) {
		t.Helper()
		k := fmt.Sprintf("key%02d", i)
		if v, used, err := s.Scan("p", fmt.Sprintf("cat/port%02d@", i), k); string(v) != "scan of "+k || !used || err != nil {
			t.Errorf("Scan %s = %q, used %v, %v", k, v, used, err)
		}
		if v, err := s.Inputs(k); string(v) != "inputs of "+k || err != nil {
			t.Errorf("Inputs %s = %q, %v", k, v, err)
		}
		if ok, _ := s.HasInputs(k); !ok {
			t.Errorf("HasInputs %s = false", k)
		}
		f := PackageFile{Path: fmt.Sprintf("/pk/p%02d.pkg", i), Size: int64(i), ModTime: 7}
		if sum, used, err := s.PackageHash("p", f); sum != "sum"+k || !used || err != nil {
			t.Errorf("PackageHash %s = %q, used %v, %v", f.Path, sum, used, err)
		}
	}
	for i := range 50 {
		check(s, i)
	}
	if v, _, _ := s.Scan("p", "x@", "none"); v != nil {
		t.Errorf("Scan of a missing key = %q", v)
	}
	// Its own writes are read back from the snapshot and reach the file.
	if err := s.UpdateCache(&CacheUpdate{Profile: "p", Scans: map[string][]byte{"key50": []byte("scan of key50")},
		ScanUses: map[string]string{"cat/port50@": "key50"}, Inputs: map[string][]byte{"key50": []byte("inputs of key50")},
		PackageHashes: map[PackageFile]string{{Path: "/pk/p50.pkg", Size: 50, ModTime: 7}: "sumkey50"},
		PackageUses:   []PackageFile{{Path: "/pk/p50.pkg", Size: 50, ModTime: 7}}}); err != nil {
		t.Fatal(err)
	}
	check(s, 50)
	s2, err := LoadSnapshot(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for i := range 51 {
		check(s2, i)
	}
}

// The compact indexes find what was loaded (in key order) and set (in any
// order, overriding), hex SHA-256 keys or not.
func TestSnapshotIndexes(t *testing.T) {
	keys := []string{
		"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", // upper case: not a sum
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"sha256:/pk/a.pkg\x001\x002", "short",
	}
	var x sumIndex[int]
	var u useIndex
	for i, k := range keys { // sorted
		x.load(k, i)
		u.load([]byte("p\x00"+k), []byte(keys[(i+1)%len(keys)]))
	}
	x.load(keys[0], 9) // out of order: kept too
	x.set(keys[2], 7)
	u.set("p\x00"+keys[2], "other")
	want := map[string]int{keys[0]: 9, keys[1]: 1, keys[2]: 7, keys[3]: 3, keys[4]: 4}
	for k, w := range want {
		if v, ok := x.get(k); !ok || v != w {
			t.Errorf("get %q = %d, %v; want %d", k, v, ok, w)
		}
	}
	for i, k := range keys {
		v := keys[(i+1)%len(keys)]
		if i == 2 {
			v = "other"
		}
		if !u.is("p\x00"+k, v) {
			t.Errorf("use %q is not %q", k, v)
		}
		for _, v2 := range append(keys, "other") {
			if v2 != v && u.is("p\x00"+k, v2) {
				t.Errorf("use %q is %q", k, v2)
			}
		}
	}
	for _, k := range []string{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdee", "none"} {
		if _, ok := x.get(k); ok {
			t.Errorf("get %q: found", k)
		}
		if u.is("p\x00"+k, keys[1]) {
			t.Errorf("use %q: found", k)
		}
	}
}

// TestSnapshotCopiesWhenAsked: the cache and the inputs are copied when a
// plan first asks for one of them, not when the snapshot is taken, and
// not at all once it is closed.
func TestSnapshotCopiesWhenAsked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateCache(&CacheUpdate{Profile: "p", Scans: map[string][]byte{"k1": []byte("v1")}, Inputs: map[string][]byte{"ik": []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := LoadSnapshot(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s.spill != nil {
		t.Fatal("the snapshot copied the cache before anything asked for it")
	}
	if ok, err := s.HasInputs("ik"); !ok || err != nil {
		t.Fatalf("HasInputs = %v, %v", ok, err)
	}
	if s.spill == nil {
		t.Fatal("no copy after HasInputs")
	}
	if v, _, err := s.Scan("p", "a/b@", "k1"); string(v) != "v1" || err != nil {
		t.Fatalf("Scan = %q, %v", v, err)
	}
	s.Close()

	s, err = LoadSnapshot(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if v, _, err := s.Scan("p", "a/b@", "k1"); v != nil || err != nil || s.spill != nil {
		t.Fatalf("Scan of a closed snapshot = %q, %v (spill %v)", v, err, s.spill)
	}
}
