package isolate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Op is the kind of one layout entry.
type Op int

// Layout entry kinds. Every implementation realises each kind with its own
// mount mechanics (bind vs nullfs, tmpfs+nodes vs devfs, ...).
const (
	// OpTmpfs mounts a fresh tmpfs of Size bytes (0: no limit) and Mode.
	OpTmpfs Op = iota
	// OpBind mounts host directory (or file) Source at Target, read-only
	// when ReadOnly is set.
	OpBind
	// OpSymlink creates Target as a symlink pointing to Source.
	OpSymlink
	// OpDir creates directory Target with Mode.
	OpDir
	// OpFile writes Data to Target with Mode.
	OpFile
	// OpDev provides a minimal /dev at Target.
	OpDev
	// OpProc mounts a fresh procfs at Target.
	OpProc
)

var opNames = [...]string{"tmpfs", "bind", "symlink", "dir", "file", "dev", "proc"}

func (o Op) String() string {
	if o >= 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", int(o))
}

// Entry is one step of building a slot. Target is an absolute path inside
// the slot; entries are applied in order.
type Entry struct {
	Op       Op          `json:"op"`
	Target   string      `json:"target"`
	Source   string      `json:"source,omitempty"`
	ReadOnly bool        `json:"ro,omitempty"`
	Size     int64       `json:"size,omitempty"`
	Mode     fs.FileMode `json:"mode,omitempty"`
	Data     []byte      `json:"data,omitempty"`
}

// systemTop and systemUsr are the base-system folders a slot sees
// read-only, those that exist under SystemDir. Symlinks among them (merged
// /usr: /bin -> usr/bin) are recreated as symlinks.
var (
	systemTop = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32", "libexec"}
	systemUsr = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32", "libexec", "include", "share", "libdata"}
)

// etcFiles are copied from SystemDir/etc into the slot's /etc. Nothing
// secret: no shadow, master.passwd, spwd.db or keys. passwd and group have
// their password fields blanked.
var etcFiles = []string{
	"passwd", "group", "hosts", "resolv.conf", "nsswitch.conf", "host.conf",
	"services", "protocols", "ld.so.conf", "ld.so.cache", "localtime",
	"pwd.db", "login.conf", "login.conf.db", "libmap.conf", "shells",
}

// etcDirs are copied file by file (one level) when present.
var etcDirs = []string{"ld.so.conf.d"}

// etcBinds are bound read-only when present (Debian's alternatives links,
// e.g. /usr/bin/cc -> /etc/alternatives/cc).
var etcBinds = []string{"alternatives"}

// Builtin mount points of a slot, in the order they are created.
const (
	TargetPorts        = "/xports"
	TargetDistfiles    = "/distfiles"
	TargetPackages     = "/packages"
	TargetOptions      = "/options"
	TargetConstruction = "/construction"
	TargetLocalbase    = "/usr/local"
	// TargetOutput is the one folder a build may write packages to
	// (Layout.OutputDir, poudriere's /.npkg).
	TargetOutput = "/.npkg"
)

// SlotDir returns the host directory of slot n: BuildBase/SL<NN>.
func SlotDir(buildBase string, n int) string {
	return filepath.Join(buildBase, SlotName(n))
}

// SlotName returns "SL<NN>" (two digits at least).
func SlotName(n int) string { return fmt.Sprintf("SL%02d", n) }

// Entries computes the slot layout as data: the ordered list of mounts,
// directories, symlinks and files that make up a slot following l. It
// reads SystemDir to learn which system folders exist and to copy the
// minimal /etc. Every implementation applies the same list.
func Entries(l Layout) ([]Entry, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	sys := l.SystemDir
	if sys == "" {
		sys = "/"
	}
	var es []Entry
	add := func(e Entry) { es = append(es, e) }
	add(Entry{Op: OpTmpfs, Target: "/", Mode: 0o755})

	sysEntries := func(prefix string, names []string) error {
		for _, name := range names {
			target := filepath.Join("/", prefix, name)
			host := filepath.Join(sys, target)
			fi, err := os.Lstat(host)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("layout: %w", err)
			}
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				dest, err := os.Readlink(host)
				if err != nil {
					return fmt.Errorf("layout: %w", err)
				}
				add(Entry{Op: OpSymlink, Target: target, Source: dest})
			case fi.IsDir():
				add(Entry{Op: OpBind, Target: target, Source: host, ReadOnly: true})
			}
		}
		return nil
	}
	if err := sysEntries("", systemTop); err != nil {
		return nil, err
	}
	add(Entry{Op: OpDir, Target: "/usr", Mode: 0o755})
	if err := sysEntries("usr", systemUsr); err != nil {
		return nil, err
	}
	add(Entry{Op: OpTmpfs, Target: TargetLocalbase, Size: l.TmpfsLocalbase, Mode: 0o755})

	add(Entry{Op: OpDir, Target: "/etc", Mode: 0o755})
	etc, err := etcEntries(sys)
	if err != nil {
		return nil, err
	}
	es = append(es, etc...)

	add(Entry{Op: OpDev, Target: "/dev"})
	add(Entry{Op: OpProc, Target: "/proc", ReadOnly: true})
	add(Entry{Op: OpTmpfs, Target: "/tmp", Mode: 0o1777})
	add(Entry{Op: OpDir, Target: "/var", Mode: 0o755})
	add(Entry{Op: OpTmpfs, Target: "/var/tmp", Mode: 0o1777})
	add(Entry{Op: OpDir, Target: "/var/run", Mode: 0o755})
	add(Entry{Op: OpDir, Target: "/var/db", Mode: 0o755})
	add(Entry{Op: OpDir, Target: "/root", Mode: 0o700})

	binds := []struct {
		src, target string
		ro          bool
	}{
		{l.PortsDir, TargetPorts, true},
		{l.DistfilesDir, TargetDistfiles, false},
		{l.PackagesDir, TargetPackages, true},
		{l.OptionsDir, TargetOptions, true},
		{l.OutputDir, TargetOutput, false},
	}
	for _, b := range binds {
		if b.src == "" {
			add(Entry{Op: OpDir, Target: b.target, Mode: 0o755})
			continue
		}
		add(Entry{Op: OpBind, Target: b.target, Source: b.src, ReadOnly: b.ro})
	}
	add(Entry{Op: OpTmpfs, Target: TargetConstruction, Size: l.TmpfsWork, Mode: 0o755})

	extra := append([]Mount(nil), l.Mounts...)
	sort.SliceStable(extra, func(i, j int) bool { return depth(extra[i].Target) < depth(extra[j].Target) })
	for _, m := range extra {
		add(Entry{Op: OpBind, Target: filepath.Clean(m.Target), Source: m.Source, ReadOnly: m.ReadOnly})
	}
	return es, nil
}

func depth(p string) int { return strings.Count(filepath.Clean(p), "/") }

// builtinTargets are mount points an extra mount may not replace.
var builtinTargets = map[string]bool{
	"/": true, "/dev": true, "/proc": true, "/tmp": true, "/var/tmp": true, "/etc": true, "/usr": true,
	TargetPorts: true, TargetDistfiles: true, TargetPackages: true, TargetOptions: true,
	TargetConstruction: true, TargetLocalbase: true, TargetOutput: true,
}

func (l Layout) validate() error {
	if l.BuildBase == "" || !filepath.IsAbs(l.BuildBase) {
		return fmt.Errorf("layout: build base %q must be an absolute path", l.BuildBase)
	}
	if filepath.Clean(l.BuildBase) == "/" {
		return fmt.Errorf("layout: build base may not be /")
	}
	if l.SystemDir != "" && !filepath.IsAbs(l.SystemDir) {
		return fmt.Errorf("layout: system dir %q must be an absolute path", l.SystemDir)
	}
	base := filepath.Clean(l.BuildBase)
	checkSrc := func(what, p string) error {
		if p == "" {
			return nil
		}
		if !filepath.IsAbs(p) {
			return fmt.Errorf("layout: %s %q must be an absolute path", what, p)
		}
		// A bind source inside a slot directory would be removed with
		// the slot.
		rel, err := filepath.Rel(base, filepath.Clean(p))
		if err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			first := strings.SplitN(rel, string(filepath.Separator), 2)[0]
			if isSlotName(first) {
				return fmt.Errorf("layout: %s %q lies inside slot directory %s", what, p, filepath.Join(base, first))
			}
		}
		return nil
	}
	for _, c := range []struct{ what, p string }{
		{"ports_dir", l.PortsDir}, {"distfiles_dir", l.DistfilesDir},
		{"packages_dir", l.PackagesDir}, {"options_dir", l.OptionsDir}, {"output dir", l.OutputDir},
	} {
		if err := checkSrc(c.what, c.p); err != nil {
			return err
		}
	}
	for _, m := range l.Mounts {
		if err := checkSrc("mount source", m.Source); err != nil {
			return err
		}
		if m.Source == "" {
			return fmt.Errorf("layout: mount %q has no source", m.Target)
		}
		if !filepath.IsAbs(m.Target) || strings.Contains(m.Target, "..") {
			return fmt.Errorf("layout: mount target %q must be an absolute path without ..", m.Target)
		}
		if builtinTargets[filepath.Clean(m.Target)] {
			return fmt.Errorf("layout: mount target %q replaces a builtin slot folder", m.Target)
		}
	}
	if l.TmpfsWork < 0 || l.TmpfsLocalbase < 0 {
		return fmt.Errorf("layout: negative tmpfs size")
	}
	return nil
}

// isSlotName reports whether name is SL followed by at least two digits.
func isSlotName(name string) bool {
	if len(name) < 4 || !strings.HasPrefix(name, "SL") {
		return false
	}
	for _, c := range name[2:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func etcEntries(sys string) ([]Entry, error) {
	var es []Entry
	copyFile := func(rel string) error {
		data, mode, ok, err := readSystemFile(sys, filepath.Join("/etc", rel))
		if err != nil || !ok {
			return err
		}
		switch rel {
		case "passwd":
			data = blankField(data, 1)
		case "group":
			data = blankField(data, 1)
		}
		es = append(es, Entry{Op: OpFile, Target: filepath.Join("/etc", rel), Data: data, Mode: mode & 0o644})
		return nil
	}
	for _, f := range etcFiles {
		if err := copyFile(f); err != nil {
			return nil, err
		}
	}
	for _, d := range etcDirs {
		ents, err := os.ReadDir(filepath.Join(sys, "etc", d))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("layout: %w", err)
		}
		es = append(es, Entry{Op: OpDir, Target: filepath.Join("/etc", d), Mode: 0o755})
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			if err := copyFile(filepath.Join(d, e.Name())); err != nil {
				return nil, err
			}
		}
	}
	for _, d := range etcBinds {
		host := filepath.Join(sys, "etc", d)
		if fi, err := os.Stat(host); err == nil && fi.IsDir() {
			es = append(es, Entry{Op: OpBind, Target: filepath.Join("/etc", d), Source: host, ReadOnly: true})
		}
	}
	return es, nil
}

// readSystemFile reads path (absolute, as seen from SystemDir) following
// symlinks inside sys. ok is false when it does not exist.
func readSystemFile(sys, path string) (data []byte, mode fs.FileMode, ok bool, err error) {
	for range 16 {
		host := filepath.Join(sys, path)
		fi, err := os.Lstat(host)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, false, nil
		}
		if err != nil {
			return nil, 0, false, fmt.Errorf("layout: %w", err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			dest, err := os.Readlink(host)
			if err != nil {
				return nil, 0, false, fmt.Errorf("layout: %w", err)
			}
			if !filepath.IsAbs(dest) {
				dest = filepath.Join(filepath.Dir(path), dest)
			}
			path = dest
			continue
		}
		if !fi.Mode().IsRegular() {
			return nil, 0, false, nil
		}
		data, err := os.ReadFile(host)
		if err != nil {
			return nil, 0, false, fmt.Errorf("layout: %w", err)
		}
		return data, fi.Mode().Perm(), true, nil
	}
	return nil, 0, false, fmt.Errorf("layout: %s: too many symlinks", path)
}

// blankField replaces colon-separated field i of each line with "*" unless
// it is already a placeholder ("x", "*", "!" or empty).
func blankField(data []byte, i int) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	var b strings.Builder
	for _, ln := range lines {
		body := strings.TrimSuffix(ln, "\n")
		f := strings.Split(body, ":")
		if len(f) > i && !strings.HasPrefix(body, "#") {
			switch f[i] {
			case "x", "*", "!", "":
			default:
				f[i] = "*"
			}
			body = strings.Join(f, ":")
		}
		b.WriteString(body)
		if strings.HasSuffix(ln, "\n") {
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}
