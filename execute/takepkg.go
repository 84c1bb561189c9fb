package execute

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// maxPackageSize bounds a package taken from a slot's output folder.
const maxPackageSize = 32 << 30

// takenPackage is a package moved from a slot's output folder into
// packages_dir/All.
type takenPackage struct {
	Path   string
	Size   int64
	SHA256 string
}

// takePackage moves the package a build left in its output folder (the
// host side of the slot's /.npkg) into pkgsDir/All/name, the way poudriere
// moves /.npkg: only as a regular file (no symlink followed at any path
// component below out, no device, FIFO or hard link), of bounded size,
// hashed from the descriptor it is moved by. Anything else in the output
// folder is a failure that names it. Call it only once nothing of the
// build runs any more (the slot is torn down), so that nothing can change
// the file between the checks and the move.
func takePackage(out, pkgsDir, name string) (takenPackage, error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return takenPackage{}, fmt.Errorf("package file name %q is not a plain file name", name)
	}
	outFd, err := unix.Open(out, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return takenPackage{}, fmt.Errorf("output folder %s: %w", out, err)
	}
	defer unix.Close(outFd)
	if err := onlyEntry(outFd, out, "All"); err != nil {
		return takenPackage{}, err
	}
	allFd, err := unix.Openat(outFd, "All", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return takenPackage{}, fmt.Errorf("output folder: All: %w (not a directory, or a symlink)", noEntry(err, "the package phase wrote nothing"))
	}
	defer unix.Close(allFd)
	if err := onlyEntry(allFd, filepath.Join(out, "All"), name); err != nil {
		return takenPackage{}, err
	}
	fd, err := unix.Openat(allFd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return takenPackage{}, fmt.Errorf("package %s is a symlink, not a file", name)
		}
		return takenPackage{}, fmt.Errorf("package %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(out, "All", name))
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return takenPackage{}, fmt.Errorf("package %s: %w", name, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return takenPackage{}, fmt.Errorf("package %s is not a regular file (mode %o)", name, st.Mode)
	case st.Nlink != 1:
		return takenPackage{}, fmt.Errorf("package %s has %d hard links", name, st.Nlink)
	case st.Size > maxPackageSize:
		return takenPackage{}, fmt.Errorf("package %s is %d bytes, more than the %d allowed", name, st.Size, int64(maxPackageSize))
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, maxPackageSize+1))
	if err != nil {
		return takenPackage{}, fmt.Errorf("package %s: %w", name, err)
	}
	if n != st.Size {
		return takenPackage{}, fmt.Errorf("package %s changed while it was read", name)
	}
	dstDir := filepath.Join(pkgsDir, "All")
	dstFd, err := unix.Open(dstDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return takenPackage{}, fmt.Errorf("packages folder %s: %w", dstDir, err)
	}
	defer unix.Close(dstFd)
	// The file is private to us now (mode fixed, owner root): publish it.
	if err := unix.Fchmod(fd, 0o644); err != nil {
		return takenPackage{}, fmt.Errorf("package %s: %w", name, err)
	}
	if err := unix.Renameat(allFd, name, dstFd, name); err != nil {
		return takenPackage{}, fmt.Errorf("move package %s into %s: %w", name, dstDir, err)
	}
	return takenPackage{Path: filepath.Join(dstDir, name), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// onlyEntry fails unless directory fd (path) holds exactly want (or
// nothing: the caller then reports the missing entry).
func onlyEntry(fd int, path, want string) error {
	dup, err := unix.Dup(fd)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	d := os.NewFile(uintptr(dup), path)
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var extra []string
	for _, n := range names {
		if n != want {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		if len(extra) > 5 {
			extra = append(extra[:5], fmt.Sprintf("and %d more", len(extra)-5))
		}
		return fmt.Errorf("the build left %s in its output folder (only %s may be there)", quoteList(extra), want)
	}
	return nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func noEntry(err error, msg string) error {
	if errors.Is(err, unix.ENOENT) {
		return errors.New(msg)
	}
	return err
}
