package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("hello"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		max  int64
		want string // "" = no error
	}{
		{ok, 100, ""},
		{ok, 3, "more than the 3"},
		{dir, 100, "not a regular file"},
		{fifo, 100, "not a regular file"}, // must not block
		{"/dev/zero", 100, "not a regular file"},
		{filepath.Join(dir, "none"), 100, "no such file"},
	} {
		b, err := ReadFile(c.path, c.max)
		switch {
		case c.want == "" && (err != nil || string(b) != "hello"):
			t.Errorf("%s: %q, %v", c.path, b, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.path, err, c.want)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f.hcl")
	os.WriteFile(f, []byte("old"), 0o644)
	if err := WriteFileAtomic(f, []byte("new"), 0o640); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f)
	st, _ := os.Stat(f)
	if string(b) != "new" || st.Mode().Perm() != 0o640 {
		t.Errorf("got %q mode %v", b, st.Mode())
	}
	// A folder that cannot take the temporary file: the old file stays.
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o755)
	if os.Geteuid() != 0 { // root writes anyway
		if err := WriteFileAtomic(f, []byte("newer"), 0o640); err == nil {
			t.Error("write into a read-only folder succeeded")
		}
		if b, _ := os.ReadFile(f); string(b) != "new" {
			t.Errorf("after a failed write: %q", b)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left files: %v", entries)
	}
}
