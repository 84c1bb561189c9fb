package record

import (
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
	if err := s.CachePutAll(map[string]map[string][]byte{string(BucketPortCache): {"k1": []byte("v1")}}); err != nil {
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
	if v, _ := s.CacheGet(BucketPortCache, "k1"); string(v) != "v1" {
		t.Errorf("CacheGet k1 = %q, want v1", v)
	}
	pk, _ := s.Packages()
	crc, _ := s.CRCIndex()
	if pk["a/b"].PkgFile != "b-1.pkg" || crc["a/b"].CRC32 != "00000001" {
		t.Errorf("packages %v, crc index %v", pk, crc)
	}
	// A writer holding the lock makes CachePutAll wait, then fail clearly.
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s.timeout = 100 * time.Millisecond
	if err := s.CachePutAll(map[string]map[string][]byte{string(BucketInputs): {"k": []byte("v")}}); err == nil {
		t.Error("CachePutAll succeeded while another writer held the database")
	}
}

func TestSnapshotOfEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	os.WriteFile(path, nil, 0o644)
	s, err := LoadSnapshot(path, time.Second)
	if err != nil {
		t.Fatalf("snapshot of an empty file: %v", err)
	}
	if err := s.CachePutAll(map[string]map[string][]byte{string(BucketPortCache): {"k": []byte("v")}}); err != nil {
		t.Fatalf("first write into an empty file: %v", err)
	}
	if s2, err := LoadSnapshot(path, time.Second); err != nil || s2.buckets[string(BucketPortCache)]["k"] == nil {
		t.Fatalf("reloaded: %v", err)
	}
}
