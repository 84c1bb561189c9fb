package fsutil

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// MaxFileSize bounds the profiles, variables files and ports files dsynth
// reads: far above any real one, it stops a mistaken path (a device, a
// huge log) from filling memory.
const MaxFileSize = 64 << 20

// ReadFile reads a regular file of at most max bytes. A device, a FIFO or
// a directory is refused (reading one could block or never end).
func ReadFile(path string, max int64) ([]byte, error) {
	// Stat first: opening a FIFO would block.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() { // replaced since
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d this reads", path, st.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		err = fmt.Errorf("%s is more than %d bytes", path, max)
	}
	return b, err
}

// WriteFileAtomic replaces the file at path with data: a temporary file in
// the same folder, renamed over path once written and closed, so that a
// failure (a full disk) leaves the old file as it was.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return WriteAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic is WriteFileAtomic with the content written by write.
func WriteAtomic(path string, perm os.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
