package portgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "refresh the framework copies in testdata/ports/good and examples/ports")

// The trees that carry a copy of the framework and of ports-mgmt/pkg.
var copies = []string{"../../testdata/ports/good", "../../examples/ports"}

// TestCopiesInSync checks that every tree's Mk and ports-mgmt/pkg are
// byte-identical to the embedded single source (mk/, pkgport/).
func TestCopiesInSync(t *testing.T) {
	for _, tree := range copies {
		if *update {
			for _, d := range []string{"Mk", "ports-mgmt/pkg"} {
				if err := os.RemoveAll(filepath.Join(tree, d)); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFramework(tree); err != nil {
				t.Fatal(err)
			}
			continue
		}
		compareDir(t, Framework(), filepath.Join(tree, "Mk"))
		compareDir(t, PkgPort(), filepath.Join(tree, "ports-mgmt", "pkg"))
	}
}

func compareDir(t *testing.T, want fs.FS, dir string) {
	t.Helper()
	wantFiles := map[string][]byte{}
	fs.WalkDir(want, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			wantFiles[p], _ = fs.ReadFile(want, p)
		}
		return err
	})
	got := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && (d.Name() == "work" || strings.HasPrefix(d.Name(), "work-")) {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			got[filepath.ToSlash(rel)], err = os.ReadFile(p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range wantFiles {
		if g, ok := got[name]; !ok {
			t.Errorf("%s/%s missing (run go test ./internal/portgen -run TestCopiesInSync -update)", dir, name)
		} else if !bytes.Equal(g, data) {
			t.Errorf("%s/%s differs from internal/portgen (run go test ./internal/portgen -run TestCopiesInSync -update)", dir, name)
		}
	}
	for name := range got {
		if _, ok := wantFiles[name]; !ok {
			t.Errorf("%s/%s is not in internal/portgen", dir, name)
		}
	}
}

// treeHash hashes every file name and content of a directory.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		h.Write([]byte(rel + "\x00"))
		h.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestGenerateDeterministic(t *testing.T) {
	opt := Options{N: 400, Seed: 7, SleepMin: time.Millisecond, SleepMax: 50 * time.Millisecond}
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	if err := Generate(a, opt); err != nil {
		t.Fatal(err)
	}
	if err := Generate(b, opt); err != nil {
		t.Fatal(err)
	}
	if treeHash(t, a) != treeHash(t, b) {
		t.Error("same seed, different trees")
	}
	opt.Seed = 8
	if err := Generate(c, opt); err != nil {
		t.Fatal(err)
	}
	if treeHash(t, a) == treeHash(t, c) {
		t.Error("different seeds, same tree")
	}
}

// TestShape checks that a generated DAG looks like a real tree: acyclic,
// every dependency exists, most ports have 0-5 dependencies, some hubs,
// every dependency kind and some flavored ports and @flavor entries.
func TestShape(t *testing.T) {
	tr, err := Build(Options{N: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	flavored := 0
	for i, p := range tr.Ports {
		if _, dup := pos[p.Origin]; dup {
			t.Fatalf("duplicate origin %s", p.Origin)
		}
		pos[p.Origin] = i
		if len(p.Flavors) > 0 {
			flavored++
		}
	}
	kindsSeen := map[string]int{}
	small, flavorDeps := 0, 0
	for i, p := range tr.Ports {
		n := 0
		for k, deps := range p.Deps {
			for _, d := range deps {
				o, fl, _ := strings.Cut(d, "@")
				j, ok := pos[o]
				if !ok || j >= i {
					t.Fatalf("%s depends on %s (at %d, ok %v): not a DAG in order", p.Origin, d, j, ok)
				}
				if fl != "" {
					flavorDeps++
					if !slices.Contains(tr.Ports[j].Flavors, fl) {
						t.Fatalf("%s: unknown flavor in %s", p.Origin, d)
					}
				}
				if k == "LIB" && !tr.Ports[j].Library {
					t.Fatalf("%s: LIB_DEPENDS on non-library %s", p.Origin, d)
				}
				kindsSeen[k]++
				n++
			}
		}
		if n <= 5 {
			small++
		}
	}
	if float64(small)/float64(len(tr.Ports)) < 0.75 {
		t.Errorf("only %d of %d ports have 0-5 dependencies", small, len(tr.Ports))
	}
	for _, k := range kinds {
		if kindsSeen[k] == 0 {
			t.Errorf("no %s_DEPENDS in the tree", k)
		}
	}
	if flavored == 0 || flavorDeps == 0 {
		t.Errorf("flavored ports %d, @flavor dependencies %d", flavored, flavorDeps)
	}
	s := tr.Stats()
	if s.MaxDependents < 50 {
		t.Errorf("biggest hub has %d dependents, want a real hub", s.MaxDependents)
	}
	t.Logf("%+v, %d flavored", s, flavored)
}

func TestStats(t *testing.T) {
	tr := &Tree{Ports: []Port{
		{Origin: "a/a", Sleep: 3 * time.Second, Deps: map[string][]string{}},
		{Origin: "b/b", Sleep: time.Second, Flavors: []string{"f1", "f2"}, Deps: map[string][]string{"BUILD": {"a/a"}}},
		{Origin: "c/c", Sleep: 2 * time.Second, Deps: map[string][]string{"RUN": {"b/b@f2"}, "BUILD": {"b/b"}}},
		{Origin: "d/d", Sleep: time.Second, Deps: map[string][]string{}},
		{Origin: "e/e", Sleep: time.Second, Flavors: []string{"f1", "f2"}, Deps: map[string][]string{}},
	}}
	// nodes: a, b@f1, b@f2 (named by c), c, d, e@f1 (e@f2 is named by no one)
	s := tr.Stats()
	want := Stats{Nodes: 6, Edges: 4, MaxDependents: 2, TotalWork: 9 * time.Second, CriticalPath: 6 * time.Second}
	if s != want {
		t.Errorf("Stats = %+v, want %+v", s, want)
	}
	if lb := s.LowerBound(1); lb != 9*time.Second {
		t.Errorf("LowerBound(1) = %v", lb)
	}
	if lb := s.LowerBound(4); lb != 6*time.Second {
		t.Errorf("LowerBound(4) = %v", lb)
	}
}

// TestGeneratedTreeBuilds writes a small tree and builds every port with
// the real framework, in order, installing each package for its
// dependents; the sleep is applied.
func TestGeneratedTreeBuilds(t *testing.T) {
	mk, err := exec.LookPath("bmake")
	if err != nil {
		t.Skip("no bmake")
	}
	dir := t.TempDir()
	root := t.TempDir()
	tr, err := Build(Options{N: 8, Seed: 3, SleepMin: 20 * time.Millisecond, SleepMax: 20 * time.Millisecond, Flavored: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Write(dir); err != nil {
		t.Fatal(err)
	}
	lb := filepath.Join(root, "usr", "local")
	env := append(os.Environ(), "PORTSDIR="+dir, "WRKDIRPREFIX="+root+"/w", "PACKAGES="+root+"/p",
		"LOCALBASE="+lb, "PKG_DBDIR="+root+"/db", "PORT_DBDIR="+root+"/o", "DISTDIR="+root+"/d",
		"__MAKE_CONF=/nonexistent")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(mk, "-C", dir+"/ports-mgmt/pkg", "package")
	run("tar", "-xf", root+"/p/All/pkg-1.0.0.pkg", "-C", "/", "--anchored", "--exclude=+*")
	run("/bin/sh", lb+"/sbin/pkg-static", "add", root+"/p/All/pkg-1.0.0.pkg")
	var files []string
	start := time.Now()
	for _, p := range tr.Ports {
		flavors := p.Flavors
		if len(flavors) == 0 {
			flavors = []string{""}
		}
		for _, f := range flavors {
			args := []string{"-C", filepath.Join(dir, p.Origin)}
			if f != "" {
				args = append(args, "FLAVOR="+f)
			}
			run(mk, append(args, "package")...)
			file := strings.TrimSpace(run(mk, append(args, "-V", "${PKGFILE}")...))
			run("/bin/sh", lb+"/sbin/pkg-static", "add", file)
			files = append(files, filepath.Base(file))
		}
	}
	if el := time.Since(start); el < time.Duration(len(files))*20*time.Millisecond {
		t.Errorf("%d builds took %v: the sleeps did not run", len(files), el)
	}
	out := run("/bin/sh", lb+"/sbin/pkg-static", "info")
	if n := strings.Count(out, "\n"); n != len(files)+1 {
		t.Errorf("%d packages registered, want %d:\n%s", n, len(files)+1, out)
	}
	sort.Strings(files)
	t.Logf("built %d packages", len(files))
	checkRepo(t, run, lb+"/sbin/pkg-static", root+"/p", append(files, "pkg-1.0.0.pkg"))
}
