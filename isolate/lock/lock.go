//go:build linux || freebsd || dragonfly

package lock

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// FileName is the lock file's name inside the build base.
const FileName = "dsynth.lock"

// Path returns the lock file of buildBase.
func Path(buildBase string) string { return filepath.Join(buildBase, FileName) }

// HeldError reports a build base locked by a live process.
type HeldError struct {
	Path string
	PID  int // 0 when the holder did not write its PID yet
}

func (e *HeldError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("build base is in use by another dsynth process (lock %s)", e.Path)
	}
	return fmt.Sprintf("build base is in use by dsynth process %d (lock %s)", e.PID, e.Path)
}

// TryLock takes the lock of buildBase (creating the directory if needed)
// without waiting. It fails with a *HeldError naming the holder's PID while
// a live process holds it. A lock file left by a dead holder is taken
// over, with a warning to warn (nil: none). release empties the file and
// drops the lock.
func TryLock(buildBase string, warn func(string)) (release func() error, err error) {
	if err := os.MkdirAll(buildBase, 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", buildBase, err)
	}
	p := Path(buildBase)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		pid := readPID(f)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &HeldError{Path: p, PID: pid}
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if old := readPID(f); old != 0 && old != os.Getpid() && warn != nil {
		warn(fmt.Sprintf("taking over the lock %s of dsynth process %d, which is gone", p, old))
	}
	if err := writePID(f, os.Getpid()); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	var done bool
	return func() error {
		if done {
			return nil
		}
		done = true
		err := f.Truncate(0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("unlock %s: %w", p, err)
		}
		return nil
	}, nil
}

// Holder reports the PID written in buildBase's lock file and whether a
// live process holds the lock. pid is 0 when the file is absent or empty.
func Holder(buildBase string) (pid int, live bool, err error) {
	p := Path(buildBase)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("lock: %w", err)
	}
	defer f.Close()
	pid = readPID(f)
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return pid, true, nil
	}
	if err != nil {
		return pid, false, fmt.Errorf("lock %s: %w", p, err)
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return pid, false, nil
}

func readPID(f *os.File) int {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 64))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

func writePID(f *os.File, pid int) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0)
	return err
}
