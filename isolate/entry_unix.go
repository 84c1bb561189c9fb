//go:build linux || freebsd || dragonfly

package isolate

import (
	"fmt"
	"os"
	"path/filepath"
)

// applyPlain applies the entries that need no mount: directories,
// symlinks and files.
func applyPlain(root string, e Entry) error {
	p := filepath.Join(root, e.Target)
	switch e.Op {
	case OpSymlink:
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.Symlink(e.Source, p)
	case OpDir:
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		return os.Chmod(p, e.Mode.Perm())
	case OpFile:
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, e.Data, e.Mode.Perm())
	}
	return fmt.Errorf("unknown layout op %d", e.Op)
}

// makeMountPoint creates p as a directory, or an empty file when source
// is a file.
func makeMountPoint(source, p string) error {
	fi, err := os.Stat(source)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}
