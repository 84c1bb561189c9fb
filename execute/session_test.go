package execute

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/isolate/lock"
	"github.com/go-dsynth/dsynth/record"
)

// TestSessionHoldsBuildBase: a session is the one holder of its build
// base, applies only plans of that build base, and lets go on Close.
func TestSessionHoldsBuildBase(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "devel/a build")
	base := p.Settings.BuildBase
	s, err := Open(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	var held *lock.HeldError
	if _, err := Open(base, nil); !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Fatalf("second session on %s: %v, want a HeldError naming this process", base, err)
	}
	other := testPlan(t, t.TempDir(), "devel/a build")
	_, err = s.Apply(context.Background(), Options{Plan: planFile(t, other), Isolator: newFake(other)})
	if err == nil || !strings.Contains(err.Error(), other.Settings.BuildBase) || !strings.Contains(err.Error(), base) {
		t.Fatalf("a plan of another build base: %v", err)
	}
	sum, err := s.Apply(context.Background(), Options{Plan: planFile(t, p), Isolator: newFake(p)})
	if err != nil || sum.Counts.Built != 1 {
		t.Fatalf("apply in the session: %+v, %v", sum, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Apply(context.Background(), Options{Plan: planFile(t, p), Isolator: newFake(p)}); err == nil {
		t.Fatal("a closed session applied")
	}
	s2, err := Open(base, nil)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	s2.Close()
	if _, err := Open("", nil); err == nil {
		t.Fatal("a session without a build base")
	}
}

// TestRecoverCleansFreeBuildBase: Recover (status, serve's clean) records
// a dead run as crashed and removes the slot it left, but leaves the
// slots alone while a live process holds the build base.
func TestRecoverCleansFreeBuildBase(t *testing.T) {
	// A PID that is gone: a child that has exited.
	child := exec.Command("true")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	dead := child.Process.Pid
	setup := func(t *testing.T) (records, base, slot string) {
		dir := t.TempDir()
		base, records = filepath.Join(dir, "base"), filepath.Join(dir, "records.db")
		slot = filepath.Join(base, "SL01")
		if err := os.MkdirAll(filepath.Join(slot, "construction"), 0o755); err != nil {
			t.Fatal(err)
		}
		host, _ := os.Hostname()
		db, err := record.Open(records, record.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		run := &record.Run{ID: "r1", BuildBase: base, Status: record.RunRunning, PID: dead, Host: host,
			Start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}
		if err := db.Write(func(tx *record.Tx) error { return tx.PutRun(run) }); err != nil {
			t.Fatal(err)
		}
		return records, base, slot
	}
	t.Run("free", func(t *testing.T) {
		records, base, slot := setup(t)
		rcv, err := Recover(records, base)
		if err != nil || len(rcv.Crashed) != 1 || rcv.Crashed[0].ID != "r1" {
			t.Fatalf("recover: %+v, %v", rcv, err)
		}
		if _, err := os.Stat(slot); !os.IsNotExist(err) || len(rcv.Cleaned) == 0 {
			t.Errorf("the dead run's slot: %v, cleaned %v", err, rcv.Cleaned)
		}
	})
	t.Run("held", func(t *testing.T) {
		records, base, slot := setup(t)
		s, err := Open(base, nil) // a live holder (this process)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		rcv, err := Recover(records, base)
		if err != nil || len(rcv.Crashed) != 1 {
			t.Fatalf("recover: %+v, %v", rcv, err)
		}
		if _, err := os.Stat(slot); err != nil || len(rcv.Cleaned) != 0 {
			t.Errorf("a slot of a held build base was touched: %v, cleaned %v", err, rcv.Cleaned)
		}
	})
}
