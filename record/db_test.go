package record

import (
	"errors"
	"path/filepath"
	"strings"
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

// TestOpenDirectory: a directory given as the records file is said to be
// one (it is not a damaged database), read-only or not, and as a snapshot.
func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, ro := range []bool{true, false} {
		_, err := Open(dir, Options{ReadOnly: ro})
		if !errors.Is(err, ErrNotFile) || !strings.Contains(err.Error(), dir+" is a directory, not a records file") {
			t.Errorf("read-only %v: %v", ro, err)
		}
	}
	if _, err := LoadSnapshot(dir, 0); !errors.Is(err, ErrNotFile) {
		t.Errorf("snapshot: %v", err)
	}
}
