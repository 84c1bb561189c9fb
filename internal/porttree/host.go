package porttree

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// osRelease is the running kernel's release (uname -r), or "0".
func osRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "0"
	}
	return strings.TrimSpace(string(b))
}

// goosToOpsys maps GOOS to the uname -s style OPSYS stand-in.
func goosToOpsys(goos string) string {
	switch goos {
	case "linux":
		return "Linux"
	case "freebsd":
		return "FreeBSD"
	case "dragonfly":
		return "DragonFly"
	}
	return goos
}

// goarchToArch maps GOARCH to the uname -m style ARCH stand-in.
func goarchToArch(a string) string {
	switch a {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i386"
	}
	return a
}

// Make finds the BSD make binary: bmake, or make when it is a BSD make.
func Make() (string, error) {
	for _, name := range []string{"bmake", "make"} {
		if p, err := exec.LookPath(name); err == nil {
			if name == "make" && !isBSDMake(p) {
				continue
			}
			return p, nil
		}
	}
	return "", fmt.Errorf("no BSD make (bmake) in PATH")
}

func isBSDMake(p string) bool {
	out, _ := exec.Command(p, "-V", ".MAKE.OS", "-f", "/dev/null").Output()
	return len(bytes.TrimSpace(out)) > 0
}

// Host is a scratch build environment for one ports tree.
type Host struct {
	Tree string // absolute path of the ports tree
	Root string // scratch directory holding everything the builds write
	// WrkDirPrefix defaults to Root/construction; change it to build the
	// same port in another place.
	WrkDirPrefix string
	PkgSufx      string   // default .pkg
	Extra        []string // more KEY=VALUE entries for the environment
	make         string
}

// NewHost prepares a scratch environment under root for the tree.
func NewHost(tree, root string) (*Host, error) {
	mk, err := Make()
	if err != nil {
		return nil, err
	}
	tree, err = filepath.Abs(tree)
	if err != nil {
		return nil, err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"construction", "packages/All", "distfiles", "options", "usr/local", "var/db/pkg"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, fmt.Errorf("host env: %w", err)
		}
	}
	return &Host{Tree: tree, Root: root, WrkDirPrefix: filepath.Join(root, "construction"), PkgSufx: ".pkg", make: mk}, nil
}

// LocalBase is Root/usr/local.
func (h *Host) LocalBase() string { return filepath.Join(h.Root, "usr", "local") }

// Packages is Root/packages (PKGFILEs go to Packages/All).
func (h *Host) Packages() string { return filepath.Join(h.Root, "packages") }

// PortDBDir is Root/options, where options files go
// (PortDBDir/<category>_<port>/options).
func (h *Host) PortDBDir() string { return filepath.Join(h.Root, "options") }

// PkgDBDir is the package registry, Root/var/db/pkg.
func (h *Host) PkgDBDir() string { return filepath.Join(h.Root, "var", "db", "pkg") }

// Env is the environment of every make run: the host's PATH and HOME, and
// the variables of the port-tree contract pointing into Root.
func (h *Host) Env() []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + h.Root,
		"PORTSDIR=" + h.Tree,
		"WRKDIRPREFIX=" + h.WrkDirPrefix,
		"PACKAGES=" + h.Packages(),
		"DISTDIR=" + filepath.Join(h.Root, "distfiles"),
		"LOCALBASE=" + h.LocalBase(),
		"PORT_DBDIR=" + h.PortDBDir(),
		"PKG_DBDIR=" + h.PkgDBDir(),
		"PKG_SUFX=" + h.PkgSufx,
		"SOURCE_DATE_EPOCH=0",
		"BATCH=yes",
		"__MAKE_CONF=/nonexistent",
		"LC_ALL=C",
		"OPSYS=" + goosToOpsys(runtime.GOOS),
		"ARCH=" + goarchToArch(runtime.GOARCH),
	}
	// Debian's bmake sys.mk (host-target.mk) forks uname four times per
	// make run unless these are set: setting them makes `make -V` about
	// twice as fast.
	env = append(env,
		"_HOST_OSNAME="+goosToOpsys(runtime.GOOS),
		"_HOST_OSREL="+osRelease(),
		"_HOST_MACHINE="+goarchToArch(runtime.GOARCH),
		"_HOST_ARCH="+goarchToArch(runtime.GOARCH))
	return append(env, h.Extra...)
}

// Run runs make in the port directory of origin ("category/port" or
// "category/port@flavor") with the given arguments and extra environment,
// returning stdout and stderr together.
func (h *Host) Run(ctx context.Context, origin string, env []string, args ...string) (string, error) {
	dir, flavor, _ := strings.Cut(origin, "@")
	argv := []string{"-C", filepath.Join(h.Tree, filepath.FromSlash(dir))}
	if flavor != "" {
		argv = append(argv, "FLAVOR="+flavor)
	}
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, h.make, argv...)
	cmd.Env = append(h.Env(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("make %s %s: %w\n%s", origin, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// Vars returns the expanded values of vars for origin (one make -V run;
// `-V '${VAR}'` so that Debian's bmake expands them).
func (h *Host) Vars(ctx context.Context, origin string, env []string, vars ...string) (map[string]string, error) {
	args := make([]string, 0, 2*len(vars))
	for _, v := range vars {
		args = append(args, "-V", "${"+v+"}")
	}
	dir, flavor, _ := strings.Cut(origin, "@")
	argv := []string{"-C", filepath.Join(h.Tree, filepath.FromSlash(dir))}
	if flavor != "" {
		argv = append(argv, "FLAVOR="+flavor)
	}
	cmd := exec.CommandContext(ctx, h.make, append(argv, args...)...)
	cmd.Env = append(h.Env(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("make -V %s: %w: %s", origin, err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(vars) {
		return nil, fmt.Errorf("make -V %s: %d lines for %d variables", origin, len(lines), len(vars))
	}
	m := make(map[string]string, len(vars))
	for i, v := range vars {
		m[v] = lines[i]
	}
	return m, nil
}

// PkgStatic is the pkg-static installed in LocalBase (after Bootstrap).
func (h *Host) PkgStatic() string { return filepath.Join(h.LocalBase(), "sbin", "pkg-static") }

// PkgAdd installs package files with the installed pkg-static (root /,
// registry PkgDBDir).
func (h *Host) PkgAdd(ctx context.Context, files ...string) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{h.PkgStatic(), "add"}, files...)...)
	cmd.Env = h.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pkg-static add %s: %w\n%s", strings.Join(files, " "), err, out)
	}
	return nil
}

// Package builds origin through its package target and returns PKGFILE
// (empty for a metaport, which writes no file).
func (h *Host) Package(ctx context.Context, origin string) (string, error) {
	if _, err := h.Run(ctx, origin, nil, "package"); err != nil {
		return "", err
	}
	v, err := h.Vars(ctx, origin, nil, "PKGFILE", "USES")
	if err != nil {
		return "", err
	}
	if strings.Contains(" "+v["USES"]+" ", " metaport ") {
		return "", nil
	}
	return v["PKGFILE"], nil
}

// Install builds each origin in order and installs its package, as dsynth
// does between builds. The first origin is usually ports-mgmt/pkg: its
// package is extracted without pkg-static (the bootstrap), which then
// installs the others.
func (h *Host) Install(ctx context.Context, origins ...string) error {
	for _, o := range origins {
		f, err := h.Package(ctx, o)
		if err != nil {
			return err
		}
		if f == "" {
			continue
		}
		if _, err := os.Stat(h.PkgStatic()); err != nil {
			if err := h.bootstrap(ctx, f); err != nil {
				return err
			}
			continue
		}
		if err := h.PkgAdd(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// bootstrap installs the pkg package by extracting it (skipping +*
// members) and then registering it with its own pkg-static.
func (h *Host) bootstrap(ctx context.Context, file string) error {
	cmd := exec.CommandContext(ctx, "tar", "-xf", file, "-C", "/", "--anchored", "--exclude=+*", "--no-overwrite-dir")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bootstrap %s: %w\n%s", file, err, out)
	}
	if _, err := os.Stat(h.PkgStatic()); err != nil {
		return fmt.Errorf("bootstrap %s: no pkg-static in it: %w", file, err)
	}
	return h.PkgAdd(ctx, file)
}
