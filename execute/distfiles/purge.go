package distfiles

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-dsynth/dsynth/plan"
)

// File is one file of distfiles_dir.
type File struct {
	// Path is relative to distfiles_dir, with slashes.
	Path string
	Size int64
}

// Unused is what Unreferenced found in distfiles_dir.
type Unused struct {
	// Dir is distfiles_dir.
	Dir string
	// Files are the regular files no port references, sorted.
	Files []File
	// Bytes is their total size.
	Bytes int64
	// Kept are entries left alone whatever they are: symbolic links
	// (never followed nor removed), other non-regular files, and the
	// profile's own folders and files when they lie inside distfiles_dir
	// (each "path: why").
	Kept []string
	// Referenced counts the files the ports name.
	Referenced int
}

// References returns the distfile paths the nodes name, relative to
// distfiles_dir: DIST_SUBDIR/FILE, and FILE alone too (a file is kept when
// any port names it either way).
func References(nodes []plan.Node) map[string]bool {
	refs := map[string]bool{}
	for i := range nodes {
		n := &nodes[i]
		for _, p := range Paths(n) {
			refs[p] = true
		}
		for _, f := range n.Distfiles {
			refs[path.Clean(f)] = true
		}
	}
	return refs
}

// ScanErrors returns the nodes that failed to plan (their distfiles are
// unknown), each "origin: reason", sorted.
func ScanErrors(nodes []plan.Node) []string {
	var out []string
	for i := range nodes {
		if nodes[i].Action == plan.ActionFailed {
			out = append(out, nodes[i].ID+": "+nodes[i].Reason)
		}
	}
	sort.Strings(out)
	return out
}

// Unreferenced walks dir (distfiles_dir) and lists the regular files refs
// does not name. It never follows a symbolic link; protect names absolute
// paths (the profile's other folders and files) never to list, nor
// anything under them. A missing dir has nothing unreferenced.
func Unreferenced(dir string, refs map[string]bool, protect []string) (*Unused, error) {
	u := &Unused{Dir: dir, Referenced: len(refs)}
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("distfiles_dir: %w", err)
	}
	root := dir
	if fi.Mode()&fs.ModeSymlink != 0 {
		// distfiles_dir itself may be a link (the profile names it);
		// nothing below it is followed.
		if root, err = filepath.EvalSymlinks(dir); err != nil {
			return nil, fmt.Errorf("distfiles_dir: %w", err)
		}
	}
	prot := map[string]bool{}
	for _, p := range protect {
		if p == "" {
			continue
		}
		for _, base := range []string{dir, root} {
			if rel, err := filepath.Rel(base, filepath.Clean(p)); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
				prot[filepath.ToSlash(rel)] = true
			}
		}
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("distfiles_dir: %w", err)
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if prot[rel] {
			u.Kept = append(u.Kept, rel+": a folder or file of the profile")
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			if !refs[rel] {
				target, _ := os.Readlink(p)
				u.Kept = append(u.Kept, rel+": a symbolic link (to "+target+"), never followed nor removed")
			}
			return nil
		case !d.Type().IsRegular():
			if !refs[rel] {
				u.Kept = append(u.Kept, rel+": not a regular file")
			}
			return nil
		}
		if refs[rel] {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("distfiles_dir: %w", err)
		}
		u.Files = append(u.Files, File{Path: rel, Size: info.Size()})
		u.Bytes += info.Size()
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(u.Files, func(i, j int) bool { return u.Files[i].Path < u.Files[j].Path })
	return u, nil
}

// Removed is what Remove did.
type Removed struct {
	Files []File
	Bytes int64
	// Dirs are the folders left empty and removed, deepest first.
	Dirs []string
}

// Remove deletes the files of u inside u.Dir through an os.Root (no path,
// link or rename can make it touch anything outside), each only while it
// is still a regular file, then the folders it left empty (never
// distfiles_dir itself). The caller holds the build-base lock. It stops
// at the first error, returning what it removed so far.
func Remove(u *Unused) (*Removed, error) {
	out := &Removed{}
	if len(u.Files) == 0 {
		return out, nil
	}
	root, err := os.OpenRoot(u.Dir)
	if err != nil {
		return out, fmt.Errorf("distfiles_dir: %w", err)
	}
	defer root.Close()
	dirs := map[string]bool{}
	for _, f := range u.Files {
		name := filepath.FromSlash(f.Path)
		fi, err := root.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("remove %s: %w", f.Path, err)
		}
		if !fi.Mode().IsRegular() {
			continue // replaced since the scan: leave it
		}
		if err := root.Remove(name); err != nil {
			return out, fmt.Errorf("remove %s: %w", f.Path, err)
		}
		out.Files = append(out.Files, File{Path: f.Path, Size: fi.Size()})
		out.Bytes += fi.Size()
		for d := path.Dir(f.Path); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	ds := make([]string, 0, len(dirs))
	for d := range dirs {
		ds = append(ds, d)
	}
	// Deepest first, so that a parent emptied by its child goes too.
	sort.Slice(ds, func(i, j int) bool {
		ci, cj := strings.Count(ds[i], "/"), strings.Count(ds[j], "/")
		if ci != cj {
			return ci > cj
		}
		return ds[i] < ds[j]
	})
	for _, d := range ds {
		f, err := root.Open(filepath.FromSlash(d))
		if err != nil {
			continue
		}
		names, err := f.Readdirnames(1)
		f.Close()
		if len(names) > 0 || !errors.Is(err, io.EOF) {
			continue
		}
		if err := root.Remove(filepath.FromSlash(d)); err == nil {
			out.Dirs = append(out.Dirs, d)
		}
	}
	return out, nil
}
