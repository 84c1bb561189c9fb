package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestAPIKeys(t *testing.T) {
	db := openTemp(t)
	key, k, err := db.CreateAPIKey("ci", RoleBuild)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "dsk_"+k.ID+"_") || strings.Contains(k.Hash, key[len(key)-64:]) {
		t.Fatalf("key %q record %+v", key, k)
	}
	got, err := db.VerifyAPIKey(key)
	if err != nil || got.Name != "ci" || got.Role != RoleBuild {
		t.Fatalf("verify: %+v %v", got, err)
	}
	// The secret is stored nowhere.
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAPIKeys).ForEach(func(_, v []byte) error {
			if bytes.Contains(v, []byte(key[len(key)-64:])) {
				t.Error("secret stored in clear")
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	wrong := key[:len(key)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", key[len(key)-1])+1)%16])
	for _, bad := range []string{"", "dsk_", "nope", wrong, "dsk_000000000000_" + strings.Repeat("a", 64), key + "0"} {
		if _, err := db.VerifyAPIKey(bad); !errors.Is(err, ErrBadAPIKey) {
			t.Errorf("verify %q: %v", bad, err)
		}
	}
	if _, _, err := db.CreateAPIKey("x", "root"); err == nil {
		t.Error("unknown role accepted")
	}
	if _, _, err := db.CreateAPIKey(" ", RoleRead); err == nil {
		t.Error("empty name accepted")
	}
	if _, err := db.RevokeAPIKey("ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.VerifyAPIKey(key); !errors.Is(err, ErrBadAPIKey) {
		t.Fatalf("revoked key verified: %v", err)
	}
	if _, err := db.RevokeAPIKey("ci"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke by name of a revoked key: %v", err)
	}
	keys, err := db.APIKeys()
	if err != nil || len(keys) != 1 || keys[0].Revoked.IsZero() {
		t.Fatalf("list: %+v %v", keys, err)
	}
}

func TestExportAndClean(t *testing.T) {
	db := openTemp(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := db.SaveRun(&Run{ID: "run1", Plan: []byte("PLANBYTES"), Start: t0, Status: RunSuccess}); err != nil {
		t.Fatal(err)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := putAttempt(tx, &Attempt{ID: "att1", RunID: "run1", NodeID: "a/b", Origin: "a/b", Start: t0}); err != nil {
			return err
		}
		if err := putAttempt(tx, &Attempt{ID: "att2", RunID: "run1", NodeID: "a/c", Origin: "a/c", Start: t0}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAttempts).Delete([]byte("att2")); err != nil {
			return err
		}
		if err := putWorker(tx, &Worker{RunID: "run1", Worker: 0}); err != nil {
			return err
		}
		if err := putWorker(tx, &Worker{RunID: "gone", Worker: 0}); err != nil {
			return err
		}
		if err := putPackage(tx, Package{NodeID: "a/b", PkgFile: "b-1.pkg"}); err != nil {
			return err
		}
		return putPackage(tx, Package{NodeID: "a/d", PkgFile: "d-1.pkg"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateAPIKey("ci", RoleRead); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := db.Export(&buf); err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Schema   int               `json:"schema_version"`
		Runs     []map[string]any  `json:"runs"`
		Attempts []json.RawMessage `json:"attempts"`
		Packages []json.RawMessage `json:"packages"`
		Workers  []json.RawMessage `json:"workers"`
		APIKeys  []map[string]any  `json:"apikeys"`
	}
	if err := json.Unmarshal(buf.Bytes(), &ex); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
	}
	if ex.Schema != SchemaVersion || len(ex.Runs) != 1 || len(ex.Attempts) != 1 || len(ex.Packages) != 2 || len(ex.Workers) != 2 || len(ex.APIKeys) != 1 {
		t.Fatalf("export: %s", buf.String())
	}
	if _, ok := ex.APIKeys[0]["hash"]; ok || bytes.Contains(buf.Bytes(), []byte("PLANBYTES")) {
		t.Fatalf("export leaks hashes or plan bytes: %s", buf.String())
	}
	rep, err := db.CleanStale(func(p Package) bool { return p.PkgFile == "d-1.pkg" })
	if err != nil {
		t.Fatal(err)
	}
	if rep.HistoryKeys != 3 || rep.Workers != 1 || len(rep.Packages) != 1 || rep.Packages[0] != "a/d" {
		t.Fatalf("clean: %+v", rep)
	}
	rep, err = db.CleanStale(nil)
	if err != nil || rep.HistoryKeys != 0 || rep.Workers != 0 {
		t.Fatalf("second clean: %+v %v", rep, err)
	}
}

func TestRunSummariesAndResolve(t *testing.T) {
	db := openTemp(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, id := range []string{"abcd0001", "abcd0002", "ef010203"} {
		if err := db.SaveRun(&Run{ID: id, Plan: []byte("PLAN " + id), Start: t0.Add(time.Duration(i) * time.Hour), Status: RunSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := db.RunSummaries()
	if err != nil || len(runs) != 3 || runs[2].ID != "ef010203" || runs[0].Plan != nil || runs[1].Status != RunSuccess {
		t.Fatalf("summaries: %+v %v", runs, err)
	}
	for _, tc := range []struct{ arg, want string }{{"last", "ef010203"}, {"ef01", "ef010203"}, {"abcd0002", "abcd0002"}, {"abcd", ""}, {"zzzz", ""}, {"ab", ""}} {
		r, err := db.ResolveRun(tc.arg)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s: found %s", tc.arg, r.ID)
		case tc.want != "" && (err != nil || r.ID != tc.want || string(r.Plan) != "PLAN "+tc.want):
			t.Errorf("%s: %+v %v", tc.arg, r, err)
		}
	}
	if _, err := db.ResolveRun("zzzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown run: %v", err)
	}
}
