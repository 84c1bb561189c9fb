package record

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// v1Buckets is the bucket list of schema 1, frozen here: the migration
// tests write files the way a dsynth of schema 1 did, with raw bbolt.
var v1Buckets = []string{"meta", "portcache", "crcindex", "runs", "attempts", "packages",
	"history", "workers", "apikeys", "inputs"}

// writeV1 writes a schema-1 records file holding one run and attempts.
func writeV1(t *testing.T, path string, attempts []*Attempt, raw map[string]string) {
	t.Helper()
	b, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range v1Buckets {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		v := make([]byte, 4)
		binary.BigEndian.PutUint32(v, 1)
		if err := tx.Bucket([]byte("meta")).Put([]byte("schema_version"), v); err != nil {
			return err
		}
		run, _ := json.Marshal(&Run{ID: "run-1", PlanDigest: "d", Status: RunSuccess})
		if err := tx.Bucket([]byte("runs")).Put([]byte("run-1"), run); err != nil {
			return err
		}
		ab, hb := tx.Bucket([]byte("attempts")), tx.Bucket([]byte("history"))
		for _, a := range attempts {
			v, _ := json.Marshal(a)
			if err := ab.Put([]byte(a.ID), v); err != nil {
				return err
			}
			for _, k := range histKeys(a, a.Start) {
				if err := hb.Put(k, []byte(a.ID)); err != nil {
					return err
				}
			}
		}
		for k, v := range raw {
			if err := ab.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fileSchema reads the schema version and whether the durations bucket
// exists, with raw bbolt.
func fileSchema(t *testing.T, path string) (uint32, bool) {
	t.Helper()
	b, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var v uint32
	var dur bool
	b.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint32(tx.Bucket([]byte("meta")).Get([]byte("schema_version")))
		dur = tx.Bucket(bucketDurations) != nil
		return nil
	})
	return v, dur
}

func TestMigrateFromV1(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	att := func(id, node, status string, start time.Time, d time.Duration) *Attempt {
		origin, flavor, _ := strings.Cut(node, "@")
		return &Attempt{ID: id, RunID: "run-1", NodeID: node, Origin: origin, Flavor: flavor,
			Status: status, Start: start, End: start.Add(d)}
	}
	attempts := []*Attempt{
		// devel/a: the later success wins even though it is shorter.
		att("a1", "devel/a", AttemptSuccess, t0, 40*time.Second),
		att("a2", "devel/a", AttemptSuccess, t0.Add(time.Hour), 25*time.Second),
		// a failure after the success does not count.
		att("a3", "devel/a", AttemptFailed, t0.Add(2*time.Hour), 3*time.Second),
		att("b1", "lang/p@py3", AttemptSuccess, t0, 90*time.Second),
		att("c1", "misc/never", AttemptSkipped, t0, 0),
	}
	want := map[string]time.Duration{"devel/a": 25 * time.Second, "lang/p@py3": 90 * time.Second}

	path := filepath.Join(t.TempDir(), "records.db")
	writeV1(t, path, attempts, nil)

	// Read-only: no migration, durations computed from the attempts.
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ro.ExpectedDurations()
	ro.Close()
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("read-only ExpectedDurations = %v, %v; want %v", got, err, want)
	}
	if v, dur := fileSchema(t, path); v != 1 || dur {
		t.Fatalf("read-only open changed the file: schema %d, durations bucket %v", v, dur)
	}

	// Read-write: migrated to the current schema in place.
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err = db.ExpectedDurations()
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("migrated ExpectedDurations = %v, %v; want %v", got, err, want)
	}
	// The old data is all there and the index keeps up with new writes.
	if h, err := db.History("devel/a"); err != nil || len(h) != 3 {
		t.Errorf("History(devel/a) after migration = %d attempts, %v", len(h), err)
	}
	if r, err := db.Run("run-1"); err != nil || r.Status != RunSuccess {
		t.Errorf("Run(run-1) after migration = %+v, %v", r, err)
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		return putAttempt(tx, att("a4", "devel/a", AttemptSuccess, t0.Add(3*time.Hour), 7*time.Second))
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ExpectedDurations(); got["devel/a"] != 7*time.Second {
		t.Errorf("after a new success devel/a = %s, want 7s", got["devel/a"])
	}
	db.Close()
	if v, dur := fileSchema(t, path); v != SchemaVersion || !dur {
		t.Errorf("after migration: schema %d, durations bucket %v", v, dur)
	}
}

func TestMigrateFailureRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	writeV1(t, path, nil, map[string]string{"bad-attempt": "{not json"})
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "migrate schema 1 to 2") || !strings.Contains(err.Error(), "bad-attempt") ||
		!strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a file the migration cannot read: %v", err)
	}
	// Nothing of the failed migration is left behind.
	if v, dur := fileSchema(t, path); v != 1 || dur {
		t.Errorf("after a failed migration: schema %d, durations bucket %v", v, dur)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	writeV1(t, path, nil, nil)
	b, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error {
		v := make([]byte, 4)
		binary.BigEndian.PutUint32(v, SchemaVersion+1)
		return tx.Bucket(bucketMeta).Put(keySchema, v)
	})
	b.Close()
	for _, ro := range []bool{false, true} {
		if _, err := Open(path, Options{ReadOnly: ro}); !errors.Is(err, ErrSchema) {
			t.Errorf("read-only %v: Open of a newer schema = %v, want ErrSchema", ro, err)
		}
	}
}
