package isolate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// within reports whether p is dir or lies below it (both clean, absolute).
func within(p, dir string) bool {
	if p == dir {
		return true
	}
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return strings.HasPrefix(p, dir+"/")
}

// MountsUnder returns the mount points at or below dir in this process's
// mount table (/proc/self/mountinfo on Linux, getfsstat on the BSDs),
// deepest first.
func MountsUnder(dir string) ([]string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// Mount tables show resolved paths.
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	all, err := mountPoints()
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range all {
		if within(m, dir) && !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		di, dj := strings.Count(out[i], "/"), strings.Count(out[j], "/")
		if di != dj {
			return di > dj
		}
		return out[i] > out[j]
	})
	return out, nil
}

// unmount unmounts path, forcing (forceUnmount, per system) when asked.
func unmount(path string, force bool) error {
	flags := 0
	if force {
		flags = forceUnmount
	}
	return unix.Unmount(path, flags)
}

// unmountAll unmounts every mount at or below dir, deepest first, and
// returns the mount points it unmounted. It fails when a mount remains.
func unmountAll(dir string, force bool) ([]string, error) {
	var done []string
	for range 8 {
		ms, err := MountsUnder(dir)
		if err != nil {
			return done, err
		}
		if len(ms) == 0 {
			return done, nil
		}
		var errs []error
		for _, m := range ms {
			if err := unmount(m, force); err != nil {
				errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
				continue
			}
			done = append(done, m)
		}
		if len(errs) > 0 {
			ms, _ := MountsUnder(dir)
			return done, fmt.Errorf("mounts remain below %s (%s): %w", dir, strings.Join(ms, ", "), errors.Join(errs...))
		}
	}
	ms, _ := MountsUnder(dir)
	return done, fmt.Errorf("mounts remain below %s: %s", dir, strings.Join(ms, ", "))
}

// removeTree removes dir after checking the mount table has nothing at or
// below it. While removing it refuses to enter a directory on another
// device than dir itself: a mount the table did not show.
func removeTree(dir string) error {
	ms, err := MountsUnder(dir)
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	if len(ms) > 0 {
		return fmt.Errorf("remove %s: refusing, live mounts below it: %s", dir, strings.Join(ms, ", "))
	}
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return os.Remove(dir)
	}
	return removeSameDev(dir, devOf(fi))
}

func devOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev) //nolint:unconvert // int32 on some BSDs
	}
	return 0
}

func removeSameDev(dir string, dev uint64) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			fi, err := os.Lstat(p)
			if err != nil {
				return fmt.Errorf("remove %s: %w", p, err)
			}
			if devOf(fi) != dev {
				return fmt.Errorf("remove %s: refusing, %s is on another file system (a mount)", dir, p)
			}
			if err := removeSameDev(p, dev); err != nil {
				return err
			}
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// Cleanup removes whatever a crashed run left under buildBase: for every
// slot directory SL<NN> it kills a leftover slot helper (Linux), unmounts
// what the mount table shows below the slot, deepest first, and removes the
// slot directory. It touches nothing else under buildBase (packages,
// distfiles or a ports tree placed there are bind sources, never inside a
// slot). It returns one line per action ("killed ...", "unmounted ...",
// "removed ..."). It never removes through a live mount: a mount that
// cannot be unmounted stops the removal of that slot with an error.
func Cleanup(buildBase string) ([]string, error) {
	base, err := filepath.Abs(buildBase)
	if err != nil {
		return nil, fmt.Errorf("cleanup %s: %w", buildBase, err)
	}
	ents, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cleanup %s: %w", base, err)
	}
	var done []string
	var errs []error
	for _, e := range ents {
		if !e.IsDir() || !isSlotName(e.Name()) {
			continue
		}
		dir := filepath.Join(base, e.Name())
		killed, err := killLeftovers(dir)
		done = append(done, killed...)
		if err != nil {
			errs = append(errs, fmt.Errorf("cleanup %s: %w", dir, err))
			continue
		}
		um, err := unmountAll(dir, true)
		for _, m := range um {
			done = append(done, "unmounted "+m)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("cleanup %s: %w", dir, err))
			continue
		}
		if err := removeTree(dir); err != nil {
			errs = append(errs, fmt.Errorf("cleanup: %w", err))
			continue
		}
		done = append(done, "removed "+dir)
	}
	return done, errors.Join(errs...)
}
