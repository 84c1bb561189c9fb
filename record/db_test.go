package record

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestOpenSchemaAndLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "records.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A second writer must fail fast with ErrLocked, not hang.
	_, err = Open(path, Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
}
