package record

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestOperations(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.LatestOperation(OpRepository, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty: %v, want ErrNotFound", err)
	}
	t0 := time.Unix(1700000000, 0)
	ops := []*Operation{
		{ID: "b", Kind: OpRepository, Start: t0.Add(2 * time.Second), Status: OpFailed, RunID: "run1"},
		{ID: "a", Kind: OpRepository, Start: t0, Status: OpOK, Count: 3, Path: "/p/.real_1"},
		{ID: "c", Kind: OpPkgClean, Start: t0.Add(time.Second), Status: OpOK, Bytes: 42},
	}
	for _, op := range ops {
		if err := db.RecordOperation(op); err != nil {
			t.Fatal(err)
		}
	}
	// An update of the same operation replaces it.
	ops[1].End = t0.Add(time.Minute)
	if err := db.RecordOperation(ops[1]); err != nil {
		t.Fatal(err)
	}
	all, err := db.Operations("")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, op := range all {
		got += op.ID
	}
	if got != "acb" {
		t.Errorf("order %q, want acb", got)
	}
	ok, err := db.LatestOperation(OpRepository, OpOK)
	if err != nil || ok.ID != "a" || ok.End.IsZero() {
		t.Errorf("latest ok repository = %+v, %v", ok, err)
	}
	last, _ := db.LatestOperation(OpRepository, "")
	if last.ID != "b" {
		t.Errorf("latest repository = %s, want b", last.ID)
	}
	byRun, _ := db.RunOperations("run1")
	if len(byRun) != 1 || byRun[0].ID != "b" {
		t.Errorf("run operations = %v", byRun)
	}
	if err := db.RecordOperation(&Operation{Kind: OpFetch}); err == nil {
		t.Error("operation without ID/start accepted")
	}
}

func TestOperationItemsBounded(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	op := &Operation{ID: "x", Kind: OpPurgeDistfiles, Start: time.Now(), Status: OpOK}
	for i := range MaxOperationItems + 5 {
		op.Items = append(op.Items, fmt.Sprint(i))
	}
	if err := db.RecordOperation(op); err != nil {
		t.Fatal(err)
	}
	all, _ := db.Operations(OpPurgeDistfiles)
	if n := len(all[0].Items); n != MaxOperationItems+1 || all[0].Items[n-1] != "... and 5 more" {
		t.Errorf("items: %d, last %q", n, all[0].Items[n-1])
	}
}
