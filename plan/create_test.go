package plan

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

func TestCreateMiniTree(t *testing.T) {
	tree := miniTree(t)
	base := t.TempDir()
	prof := testProfile(tree, base, "devel/app", "misc/user")
	p, st := mustCreate(t, Options{Profile: prof, DB: openDB(t, base)})
	want := map[string]string{
		"devel/app":      "build: new",
		"devel/mid":      "build: new",
		"devel/lib":      "build: new",
		"lang/py@py2":    "build: new",
		"lang/py@py3":    "build: new",
		"misc/ign":       "ignored: is marked as broken: does not build",
		"misc/user":      "skipped: skipped: misc/ign is ignored",
		"ports-mgmt/pkg": "build: new",
	}
	if got := actions(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("actions:\n got %v\nwant %v", got, want)
	}
	// 7 origins + lang/py@py2: 8 make runs, none twice.
	if st.MakeRuns != 8 || st.CacheHits != 0 {
		t.Fatalf("stats %+v", st)
	}
	app := p.Node("devel/app")
	// RUN_DEPENDS=/nonexistent:devel/lib:extract is an edge too.
	if !reflect.DeepEqual(app.Deps, map[DepKind][]string{DepBuild: {"devel/mid", "lang/py@py3"}, DepRun: {"devel/lib", "lang/py@py2"}}) {
		t.Fatalf("app deps %v", app.Deps)
	}
	if app.PkgFile != "app-1.0.pkg" || app.PkgName != "app-1.0" || app.Version != "1.0" || len(app.CRC32) != 8 {
		t.Fatalf("app %+v", app)
	}
	if lib := p.Node("devel/lib"); !reflect.DeepEqual(lib.SelectedOptions, []string{"DOCS"}) || !reflect.DeepEqual(lib.DeselectedOptions, []string{"X11"}) {
		t.Fatalf("lib options %v / %v", lib.SelectedOptions, lib.DeselectedOptions)
	}
	if p.PkgNode != "ports-mgmt/pkg" {
		t.Fatalf("PkgNode %q", p.PkgNode)
	}
	pos := map[string]int{}
	for i, id := range p.Order {
		pos[id] = i
	}
	for i := range p.Ports {
		for _, d := range allDeps(&p.Ports[i]) {
			if pos[d] >= pos[p.Ports[i].ID] {
				t.Fatalf("order puts %s before its dependency %s", p.Ports[i].ID, d)
			}
		}
	}
	if p.Node("devel/lib").Priority != 2 || app.Priority != 0 {
		t.Fatalf("priorities lib %d app %d", p.Node("devel/lib").Priority, app.Priority)
	}
}

func TestCreateDeterministicAndCached(t *testing.T) {
	tree := miniTree(t)
	base := t.TempDir()
	prof := testProfile(tree, base, "all")
	encode := func(p *Plan) []byte {
		b, err := Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p1, _ := mustCreate(t, Options{Profile: prof, Jobs: 1})
	p2, _ := mustCreate(t, Options{Profile: prof, Jobs: 8})
	if !bytes.Equal(encode(p1), encode(p2)) {
		t.Fatal("two plans of the same inputs differ")
	}
	db := openDB(t, base)
	p3, st := mustCreate(t, Options{Profile: prof, DB: db})
	if st.MakeRuns == 0 {
		t.Fatal("cold plan ran no make")
	}
	p4, st := mustCreate(t, Options{Profile: prof, DB: db})
	if st.MakeRuns != 0 || st.CacheHits == 0 {
		t.Fatalf("warm plan: %+v, want no make runs", st)
	}
	if !bytes.Equal(encode(p3), encode(p4)) || !bytes.Equal(encode(p1), encode(p4)) {
		t.Fatal("cached plan differs from scanned plan")
	}
	// "all": every port; lang/py only in its default flavor here, plus
	// py2 which devel/app needs.
	if len(p1.Ports) != 8 {
		t.Fatalf("nodes: %v", p1.Order)
	}
	// Touching mtimes changes nothing.
	future := mustStat(t, filepath.Join(tree, "devel/lib/Makefile")).ModTime().Add(3600e9)
	os.Chtimes(filepath.Join(tree, "devel/lib/Makefile"), future, future)
	_, st = mustCreate(t, Options{Profile: prof, DB: db})
	if st.MakeRuns != 0 {
		t.Fatalf("mtime change caused %d make runs", st.MakeRuns)
	}
	// Changing one leaf re-scans exactly that port.
	appendFile(t, filepath.Join(tree, "devel/lib/pkg-descr"), "new file\n")
	_, st = mustCreate(t, Options{Profile: prof, DB: db})
	if st.MakeRuns != 1 {
		t.Fatalf("leaf change caused %d make runs, want 1", st.MakeRuns)
	}
}

func mustStat(t testing.TB, p string) os.FileInfo {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func appendFile(t testing.TB, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

func TestCreateErrors(t *testing.T) {
	inc := "\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n"
	cases := []struct {
		name    string
		files   map[string]string
		targets []string
		kinds   []error
		msgs    []string
	}{
		{"missing dependency",
			map[string]string{"a/x/Makefile": "PORTNAME=x\nPORTVERSION=1\nBUILD_DEPENDS=y:b/gone" + inc},
			[]string{"a/x"}, []error{ErrMissingPort},
			[]string{"missing port b/gone, needed by a/x (BUILD_DEPENDS)"}},
		{"missing target",
			map[string]string{}, []string{"a/none"}, []error{ErrMissingPort},
			[]string{"missing port a/none, needed by a profile target"}},
		{"make failure",
			map[string]string{"a/x/Makefile": "PORTNAME=x\nPORTVERSION=1\n.error this port is broken" + inc},
			[]string{"a/x"}, []error{ErrScan},
			[]string{"exit status 1", "this port is broken", "needed by a profile target"}},
		{"unknown flavor",
			map[string]string{"a/x/Makefile": "PORTNAME=x\nPORTVERSION=1\nRUN_DEPENDS=p:l/py@py7" + inc,
				"l/py/Makefile": "PORTNAME=py\nPORTVERSION=1\nFLAVORS=py3 py2" + inc},
			[]string{"a/x"}, []error{ErrUnknownFlavor},
			[]string{`unknown flavor "py7" of l/py (FLAVORS is py3 py2), needed by a/x (RUN_DEPENDS)`}},
		{"cycle",
			map[string]string{"a/x/Makefile": "PORTNAME=x\nPORTVERSION=1\nBUILD_DEPENDS=y:b/y" + inc,
				"b/y/Makefile": "PORTNAME=y\nPORTVERSION=1\nRUN_DEPENDS=z:c/z" + inc,
				"c/z/Makefile": "PORTNAME=z\nPORTVERSION=1\nLIB_DEPENDS=x:a/x" + inc},
			[]string{"a/x"}, []error{ErrCycle},
			[]string{"dependency cycle: a/x -> b/y -> c/z -> a/x"}},
		{"all at once",
			map[string]string{"a/x/Makefile": "PORTNAME=x\nPORTVERSION=1\nBUILD_DEPENDS=y:b/gone q:c/q" + inc,
				"c/q/Makefile": "PORTNAME=q\nPORTVERSION=1\nBUILD_DEPENDS=q:c/q bad-entry" + inc},
			[]string{"a/x"}, []error{ErrMissingPort, ErrCycle, ErrBadDepend},
			[]string{"missing port b/gone", "dependency cycle: c/q -> c/q", `malformed BUILD_DEPENDS entry "bad-entry"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree := t.TempDir()
			c.files["Mk/bsd.port.mk"] = miniMk
			writeFiles(t, tree, c.files)
			prof := testProfile(tree, t.TempDir(), c.targets...)
			_, _, err := Create(t.Context(), Options{Profile: prof, Jobs: 2})
			var el *ErrorList
			if !errors.As(err, &el) {
				t.Fatalf("err = %v, want *ErrorList", err)
			}
			if len(el.Errs) != len(c.kinds) {
				t.Fatalf("%d errors, want %d: %v", len(el.Errs), len(c.kinds), err)
			}
			for _, k := range c.kinds {
				if !errors.Is(err, k) {
					t.Errorf("error is not %v: %v", k, err)
				}
			}
			for _, m := range c.msgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error lacks %q:\n%v", m, err)
				}
			}
		})
	}
}

func TestTreeIdentityGit(t *testing.T) {
	tree := miniTree(t)
	id, err := TreeIdentity(t.Context(), tree)
	if err != nil || id.GitCommit != "" || id.MkHash == "" {
		t.Fatalf("plain dir: %+v %v", id, err)
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", tree, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "x")
	head := git("rev-parse", "HEAD")
	id, err = TreeIdentity(t.Context(), tree)
	if err != nil || id.GitCommit != head || id.GitDirty {
		t.Fatalf("clean checkout: %+v %v", id, err)
	}
	appendFile(t, filepath.Join(tree, "devel/lib/Makefile"), "# dirty\n")
	id, _ = TreeIdentity(t.Context(), tree)
	if id.GitCommit != head || !id.GitDirty {
		t.Fatalf("dirty checkout: %+v", id)
	}
	// A subdirectory of a checkout is not identified by the checkout's commit.
	id, _ = TreeIdentity(t.Context(), filepath.Join(tree, "devel"))
	if id.GitCommit != "" {
		t.Fatalf("subdirectory: %+v", id)
	}
}

// TestCacheDropsReplacedEntries checks that the metadata cache does not
// grow with every edit of the tree: a re-scan replaces the entry the
// profile used before, unless another profile still uses it.
func TestCacheDropsReplacedEntries(t *testing.T) {
	tree := miniTree(t)
	base := t.TempDir()
	db := openDB(t, base)
	prof := func(name, cflags string) *spec.Profile {
		p := testProfile(tree, base, "all")
		p.Name, p.MakeConf = name, map[string]string{"CFLAGS": cflags}
		return p
	}
	a, b, c := prof("a", "-O2"), prof("b", "-O3"), prof("c", "-O2") // c scans as a does
	scans := func() int {
		n, err := db.CachedScans()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	plan := func(p *spec.Profile, wantMakes int, wantScans int) {
		t.Helper()
		_, st := mustCreate(t, Options{Profile: p, DB: db})
		if st.MakeRuns != wantMakes {
			t.Errorf("plan of %s: %d make runs, want %d", p.Name, st.MakeRuns, wantMakes)
		}
		if n := scans(); n != wantScans {
			t.Errorf("after the plan of %s: %d scan entries in the cache, want %d", p.Name, n, wantScans)
		}
	}
	_, st := mustCreate(t, Options{Profile: a, DB: db})
	n := scans()
	if n == 0 || n != st.MakeRuns {
		t.Fatalf("cold plan: %d make runs, %d cache entries", st.MakeRuns, n)
	}
	plan(b, n, 2*n) // other settings: other entries
	plan(c, 0, 2*n) // same settings as a: shares its entries
	plan(a, 0, 2*n)

	appendFile(t, filepath.Join(tree, "devel/lib/pkg-descr"), "edited\n")
	plan(b, 1, 2*n)   // b's old devel/lib entry is replaced
	plan(a, 1, 2*n+1) // a's old one is still c's: kept
	plan(c, 0, 2*n)   // c moves to a's new entry: the old one goes
	plan(a, 0, 2*n)

	// A warm plan of an unchanged tree writes nothing at all.
	cs := &countingStore{DB: db}
	if _, st := mustCreate(t, Options{Profile: a, DB: cs}); st.MakeRuns != 0 || cs.writes != 0 {
		t.Errorf("warm plan: %d make runs, %d cache writes", st.MakeRuns, cs.writes)
	}
}

// countingStore counts the cache writes that write something.
type countingStore struct {
	*record.DB
	writes int
}

func (s *countingStore) UpdateCache(u *record.CacheUpdate) error {
	if u.Len() > 0 {
		s.writes++
	}
	return s.DB.UpdateCache(u)
}

func TestCreateMissingPortsDir(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "afile")
	os.WriteFile(file, nil, 0o644)
	for dir, want := range map[string]string{filepath.Join(base, "none"): "no such file or directory", file: "is not a directory"} {
		_, _, err := Create(t.Context(), Options{Profile: testProfile(dir, base, "all")})
		if err == nil || !strings.Contains(err.Error(), "ports_dir "+dir) || !strings.Contains(err.Error(), want) {
			t.Errorf("ports_dir %s: %v", dir, err)
		}
	}
}

// TestCreatePackageNames: names the real framework makes plan (a
// PKGVERSION with a leading dot, as science/nec2c's ".9_2"); what is
// unsafe as a file name or on a terminal is refused with the port and the
// reason.
func TestCreatePackageNames(t *testing.T) {
	cases := []struct {
		name, portname, version string
		want                    string // "" = plans
	}{
		{"leading dot version", "lib", ".9", ""},
		{"dots inside", "lib.x", "1.0.a", ""},
		{"slash", "../../evil", "1", "PKGNAME \"../../evil-1\" has a slash"},
		{"control", "bad\x1b[31m", "1", "has a control character"},
		{"hidden file", ".hidden", "1", "starts with a dot (a hidden file under packages_dir)"},
		{"option-like", "", "1", "PKGNAME \"-1\" starts with \"-\""},
		{"slash in version", "lib", "1/2", "PKGVERSION \"1/2\" has a slash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree := miniTree(t)
			mk := filepath.Join(tree, "devel/lib/Makefile")
			b, _ := os.ReadFile(mk)
			s := strings.Replace(string(b), "PORTNAME=lib", "PORTNAME="+c.portname, 1)
			s = strings.Replace(s, "PORTVERSION=3.1", "PORTVERSION="+c.version, 1)
			os.WriteFile(mk, []byte(s), 0o644)
			p, _, err := Create(t.Context(), Options{Profile: testProfile(tree, t.TempDir(), "devel/lib")})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n := p.Node("devel/lib"); n.Version != c.version || n.PkgName != c.portname+"-"+c.version || n.PkgFile != n.PkgName+".pkg" {
					t.Fatalf("node %+v", n)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "devel/lib") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want devel/lib and %q", err, c.want)
			}
		})
	}
}

// TestCacheWrittenDuringScan: with every new cache entry written as it is
// made (flushBytes 1, in many short transactions of the records file
// through a snapshot, as dsynth plan does), a re-plan from a new snapshot
// runs no make, writes nothing and makes the same plan; an edited port
// re-runs make for it alone.
func TestCacheWrittenDuringScan(t *testing.T) {
	defer func(n int) { flushBytes = n }(flushBytes)
	flushBytes = 1
	tree := miniTree(t)
	base := t.TempDir()
	openDB(t, base).Close()
	prof := testProfile(tree, base, "all")
	plan := func() (*Plan, *Stats) {
		t.Helper()
		s, err := RecordsStore(filepath.Join(base, "records.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer CloseStore(s)
		return mustCreate(t, Options{Profile: prof, DB: s})
	}
	cold, st := plan()
	if st.MakeRuns == 0 || st.CacheHits != 0 {
		t.Fatalf("cold plan: %+v", st)
	}
	warm, st2 := plan()
	if st2.MakeRuns != 0 || st2.CacheHits != st.MakeRuns {
		t.Errorf("warm plan: %+v, cold %+v", st2, st)
	}
	a, _ := Encode(cold)
	b, _ := Encode(warm)
	if !bytes.Equal(a, b) {
		t.Error("the warm plan differs from the cold one")
	}
	db := openDB(t, base)
	cs := &countingStore{DB: db}
	if _, st := mustCreate(t, Options{Profile: prof, DB: cs}); st.MakeRuns != 0 || cs.writes != 0 {
		t.Errorf("warm plan from the database: %d make runs, %d cache writes", st.MakeRuns, cs.writes)
	}
	db.Close()
	appendFile(t, filepath.Join(tree, "devel/lib/pkg-descr"), "edited\n")
	if _, st := plan(); st.MakeRuns != 1 {
		t.Errorf("after editing devel/lib: %d make runs, want 1", st.MakeRuns)
	}
}
