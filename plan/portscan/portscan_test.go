package portscan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseDepends(t *testing.T) {
	cases := []struct {
		value string
		want  []string
		bad   []string
	}{
		{"", nil, nil},
		{"foo:devel/foo", []string{"devel/foo"}, nil},
		{"foo:devel/foo:patch bar>=1:lang/bar@py39", []string{"devel/foo", "lang/bar@py39"}, nil},
		{"foo:${PORTSDIR}/devel/foo", []string{"devel/foo"}, nil},
		{"foo:/usr/ports/devel/foo", []string{"devel/foo"}, nil},
		{"foo:/elsewhere/ports/devel/foo@x:build", []string{"devel/foo@x"}, nil},
		// /nonexistent:<dir>[:<target>] names no file to look for but
		// still a port that must come first (its source, say).
		{"/nonexistent:devel/foo:extract", []string{"devel/foo"}, nil},
		{"/nonexistent:${PORTSDIR}/databases/foo", []string{"databases/foo"}, nil},
		{"/nonexistent:/usr/ports/databases/foo:patch", []string{"databases/foo"}, nil},
		{"libz.so:archivers/zlib", []string{"archivers/zlib"}, nil},
		{"justaword foo: foo:toplevel", nil, []string{"justaword", "foo:", "foo:toplevel"}},
	}
	for _, c := range cases {
		deps, bad := ParseDepends("BUILD_DEPENDS", c.value, "/usr/ports")
		var got []string
		for _, d := range deps {
			if d.Var != "BUILD_DEPENDS" {
				t.Errorf("Var = %q", d.Var)
			}
			got = append(got, d.Ref.String())
		}
		if !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(bad, c.bad) {
			t.Errorf("ParseDepends(%q) = %v, bad %v; want %v, bad %v", c.value, got, bad, c.want, c.bad)
		}
	}
}

// fakeTree is an in-memory port tree for Walk: origin -> flavors, deps
// ("VAR=origin[@flavor]").
type fakePort struct {
	flavors []string
	deps    []string
	fail    bool
}

func fakeLoader(tree map[string]fakePort, calls *atomic.Int64, active, maxActive *atomic.Int64) Loader {
	return func(ctx context.Context, origin, flavor string) (*Port, error) {
		calls.Add(1)
		if active != nil {
			n := active.Add(1)
			defer active.Add(-1)
			for {
				m := maxActive.Load()
				if n <= m || maxActive.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		fp, ok := tree[origin]
		if !ok {
			return nil, fmt.Errorf("%s: %w", origin, ErrMissingPort)
		}
		if fp.fail {
			return nil, &MakeError{Dir: origin, Status: 2, Stderr: "make: bad"}
		}
		p := &Port{Origin: origin, Flavor: flavor, Flavors: fp.flavors}
		if flavor == "" && len(fp.flavors) > 0 {
			p.Flavor = fp.flavors[0]
		}
		for _, d := range fp.deps {
			v, o, _ := strings.Cut(d, "=")
			p.Deps = append(p.Deps, Dep{Var: v, Ref: ParseRef(o)})
		}
		return p, nil
	}
}

func TestWalkFlavorsAndErrors(t *testing.T) {
	tree := map[string]fakePort{
		"a/top":    {deps: []string{"BUILD_DEPENDS=l/py", "RUN_DEPENDS=l/py@py3", "RUN_DEPENDS=l/py@py2", "LIB_DEPENDS=x/lib"}},
		"l/py":     {flavors: []string{"py3", "py2"}},
		"x/lib":    {},
		"a/bad":    {deps: []string{"BUILD_DEPENDS=x/gone", "RUN_DEPENDS=l/py@py9", "FETCH_DEPENDS=x/lib@f", "BUILD_DEPENDS=x/broken"}},
		"x/broken": {fail: true},
	}
	var calls atomic.Int64
	res, err := Walk(context.Background(), Config{Jobs: 3, Load: fakeLoader(tree, &calls, nil, nil)},
		[]Ref{{Origin: "a/top"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	var ids []string
	for id := range res.Ports {
		ids = append(ids, id)
	}
	want := map[string]bool{"a/top": true, "l/py@py3": true, "l/py@py2": true, "x/lib": true}
	if len(ids) != len(want) {
		t.Fatalf("nodes %v", ids)
	}
	// l/py scanned twice (default + py2), never a third time for py3.
	if calls.Load() != 4 {
		t.Fatalf("%d loads, want 4", calls.Load())
	}
	if got := res.DepIDs["a/top"]; !reflect.DeepEqual(got, []string{"l/py@py3", "l/py@py3", "l/py@py2", "x/lib"}) {
		t.Fatalf("DepIDs = %v", got)
	}

	res, err = Walk(context.Background(), Config{Jobs: 2, Load: fakeLoader(tree, &calls, nil, nil)},
		[]Ref{{Origin: "a/bad"}, {Origin: "x/nothere"}})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range res.Errors {
		msgs = append(msgs, e.Error())
	}
	got := strings.Join(msgs, "\n")
	for _, w := range []string{
		"missing port x/gone, needed by a/bad (BUILD_DEPENDS)",
		"missing port x/nothere, needed by a profile target",
		`unknown flavor "py9" of l/py (FLAVORS is py3 py2), needed by a/bad (RUN_DEPENDS)`,
		`unknown flavor "f" of x/lib (x/lib has no flavors), needed by a/bad (FETCH_DEPENDS)`,
		"x/broken: make -V failed in x/broken: exit status 2: make: bad, needed by a/bad (BUILD_DEPENDS)",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("errors lack %q:\n%s", w, got)
		}
	}
	// Dependencies that failed resolve to their error's node ID.
	if got := res.DepIDs["a/bad"]; !reflect.DeepEqual(got, []string{"x/gone", "l/py@py9", "x/lib@f", "x/broken"}) {
		t.Errorf("DepIDs[a/bad] = %v", got)
	}
	for _, e := range res.Errors {
		if !strings.HasPrefix(e.Error(), e.Reason()) || strings.Contains(e.Reason(), "needed by") {
			t.Errorf("Reason %q of %q", e.Reason(), e.Error())
		}
	}
	if len(res.Errors) != 5 {
		t.Errorf("%d errors, want 5:\n%s", len(res.Errors), got)
	}
	if !errors.Is(res.Errors[0], res.Errors[0].Kind) {
		t.Error("Error does not unwrap to its kind")
	}
}

func TestWalkBoundedAndLarge(t *testing.T) {
	// A 5000-port chain-and-fan DAG: every port depends on the next two.
	tree := map[string]fakePort{}
	const n = 5000
	var roots []Ref
	for i := 0; i < n; i++ {
		fp := fakePort{}
		for _, j := range []int{i + 1, i + 2} {
			if j < n {
				fp.deps = append(fp.deps, fmt.Sprintf("BUILD_DEPENDS=c/p%d", j))
			}
		}
		tree[fmt.Sprintf("c/p%d", i)] = fp
		roots = append(roots, Ref{Origin: fmt.Sprintf("c/p%d", i)})
	}
	var calls, active, maxActive atomic.Int64
	loader := fakeLoader(tree, &calls, &active, &maxActive)
	quick := func(ctx context.Context, o, f string) (*Port, error) {
		if calls.Load() > 200 {
			return fakeLoader(tree, &calls, nil, nil)(ctx, o, f)
		}
		return loader(ctx, o, f)
	}
	res, err := Walk(context.Background(), Config{Jobs: 4, Load: quick}, roots)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ports) != n || calls.Load() != n || len(res.Errors) != 0 {
		t.Fatalf("%d ports, %d loads, %d errors", len(res.Ports), calls.Load(), len(res.Errors))
	}
	if m := maxActive.Load(); m > 4 || m < 2 {
		t.Fatalf("max concurrent loads %d, want 2..4", m)
	}
}

func TestWalkCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	slow := func(ctx context.Context, o, f string) (*Port, error) {
		if calls.Add(1) == 3 {
			cancel()
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	var roots []Ref
	for i := 0; i < 100; i++ {
		roots = append(roots, Ref{Origin: fmt.Sprintf("c/p%d", i)})
	}
	done := make(chan error)
	go func() {
		_, err := Walk(ctx, Config{Jobs: 3, Load: slow}, roots)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Walk did not return after cancel")
	}
}

func TestQueryRealMake(t *testing.T) {
	dir := t.TempDir()
	mk := "PORTNAME=x\nPKGNAME=${PORTNAME}-${V}\nPKGVERSION=${V}\nV=1.${MINOR}\nFLAVORS=a b\nIGNORE=${FLAVOR:Mb:S/b/flavor b is bad/}\n" +
		"BUILD_DEPENDS=y:${PORTSDIR}/c/y\nall:\n"
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "MINOR=2", "PORTSDIR=/p"}
	v, err := Query(context.Background(), "bmake", dir, "b", env)
	if err != nil {
		t.Fatal(err)
	}
	if v["PKGNAME"] != "x-1.2" || v["FLAVORS"] != "a b" || v["IGNORE"] != "flavor b is bad" ||
		v["BUILD_DEPENDS"] != "y:/p/c/y" || v["RUN_DEPENDS"] != "" {
		t.Fatalf("vars = %v", v)
	}
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(".error broken makefile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Query(context.Background(), "bmake", dir, "", env)
	var me *MakeError
	if !errors.As(err, &me) || me.Status == 0 || !strings.Contains(me.Stderr, "broken makefile") {
		t.Fatalf("err = %#v", err)
	}
}

func TestMakeErrorText(t *testing.T) {
	for _, c := range []struct {
		e    MakeError
		want string
	}{
		{MakeError{Dir: "/p/a/b", Status: 2, Err: errors.New("exit status 2"), Stderr: "bad"}, "make -V failed in /p/a/b: exit status 2: bad"},
		{MakeError{Dir: "/p/a/b", Status: -1, Err: errors.New("exec: bmake: not found")}, "make -V failed in /p/a/b: exec: bmake: not found"},
		{MakeError{Dir: "/p/a/b", Flavor: "x", Status: 0, Err: errors.New("make printed 3 lines for 19 variables")},
			"make -V failed in /p/a/b (FLAVOR=x): make printed 3 lines for 19 variables"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

// TestQueryHangsAndFloods: a make -V that hangs (a != assignment that
// never ends, its sleep holding make's pipes) times out with its whole
// process group killed; one that floods stderr keeps only the start.
func TestQueryHangsAndFloods(t *testing.T) {
	if _, err := exec.LookPath("bmake"); err != nil {
		t.Skip("needs bmake")
	}
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH")}
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte("X!= sleep 300; echo done\nPKGNAME=x-1\nall:\n"), 0o644)
	t0 := time.Now()
	_, err := QueryWithin(context.Background(), time.Second, "bmake", dir, "", env)
	var me *MakeError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "timed out after 1s") {
		t.Fatalf("hanging make -V: %v", err)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("the timeout took %s", d)
	}
	if out, _ := exec.Command("pgrep", "-f", "sleep 300; echo done").Output(); len(out) > 0 {
		t.Errorf("processes of the timed-out make are left: %s", out)
	}

	os.WriteFile(filepath.Join(dir, "Makefile"), []byte("J!= head -c 20000000 /dev/zero >&2\nPKGNAME=x-1\nall:\n"), 0o644)
	v, err := Query(context.Background(), "bmake", dir, "", env)
	if err != nil || v["PKGNAME"] != "x-1" {
		t.Fatalf("make -V flooding stderr: %v, %v", v, err)
	}
}

// TestWalkAllFlavorsAndSkipRoot: origin@all stands for every flavor (the
// port itself when it has none); SkipRoot drops roots once their flavor is
// known, and a skipped node is still walked when something needs it.
func TestWalkAllFlavorsAndSkipRoot(t *testing.T) {
	tree := map[string]fakePort{
		"l/py":   {flavors: []string{"py3", "py2", "py1"}},
		"x/lib":  {},
		"a/user": {deps: []string{"RUN_DEPENDS=l/py@py2"}},
	}
	var calls atomic.Int64
	skip := func(origin, flavor string) bool { return origin == "l/py" && flavor == "py2" }
	res, err := Walk(context.Background(), Config{Jobs: 2, Load: fakeLoader(tree, &calls, nil, nil), SkipRoot: skip},
		[]Ref{{Origin: "l/py", Flavor: AllFlavors}, {Origin: "x/lib", Flavor: AllFlavors}})
	if err != nil || len(res.Errors) != 0 {
		t.Fatal(err, res.Errors)
	}
	if want := []string{"l/py@py1", "l/py@py3", "x/lib"}; !reflect.DeepEqual(res.Roots, want) || len(res.Ports) != 3 {
		t.Fatalf("roots %v (want %v), %d nodes", res.Roots, want, len(res.Ports))
	}
	res, _ = Walk(context.Background(), Config{Jobs: 2, Load: fakeLoader(tree, &calls, nil, nil), SkipRoot: skip},
		[]Ref{{Origin: "l/py", Flavor: AllFlavors}, {Origin: "a/user"}})
	if res.Ports["l/py@py2"] == nil || slices.Contains(res.Roots, "l/py@py2") {
		t.Fatalf("a skipped root that a port needs: nodes %v, roots %v", res.Ports, res.Roots)
	}
}
