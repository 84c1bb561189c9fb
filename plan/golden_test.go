package plan

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedEnv pins every stand-in so golden files do not depend on the host.
var fixedEnv = map[string]string{
	"OPSYS": "DragonFly", "UNAME_s": "DragonFly", "UNAME_r": "6.4-RELEASE", "UNAME_v": "DragonFly 6.4-RELEASE",
	"UNAME_m": "x86_64", "UNAME_p": "x86_64", "ARCH": "x86_64", "OSVERSION": "600400", "OSREL": "6.4", "_OSRELEASE": "6.4-RELEASE",
}

func goldenProfile(t *testing.T, tree string, targets ...string) (*spec.Profile, string) {
	abs, err := filepath.Abs(filepath.Join("..", "testdata", "ports", tree))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Skipf("tree %s not present yet", tree)
	}
	base := t.TempDir()
	p := testProfile(abs, base, targets...)
	p.SystemDir = base // no identity files: a host-independent system_id
	p.Environment.Env = fixedEnv
	return p, base
}

// normalize makes plan JSON or error text machine-independent.
func normalize(b []byte, p *spec.Profile, base string) []byte {
	s := strings.ReplaceAll(string(b), p.PortsDir, "$TREE")
	s = strings.ReplaceAll(s, base, "$BASE")
	s = regexp.MustCompile(`"digest": "[0-9a-f]{64}"`).ReplaceAllString(s, `"digest": "$$DIGEST"`)
	// The Mk framework of the test trees still changes; its hash and the
	// input keys (which include it) are checked by the determinism and
	// incremental tests rather than pinned here.
	s = regexp.MustCompile(`"(mk_hash|input_key)": "[0-9a-f]{64}"`).ReplaceAllString(s, `"$1": "$$HASH"`)
	return []byte(s)
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "plan", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./plan -update)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got %q\nwant %q\n(run go test ./plan -update if intended)", path, i+1, g, w)
			}
		}
	}
}

func TestGoldenPlans(t *testing.T) {
	cases := []struct {
		name    string
		tree    string
		targets []string
		setup   func(p *spec.Profile)
	}{
		{"good-all", "good", []string{"all"}, nil},
		{"good-tests-options", "good", []string{"misc/optioned", "textproc/tl-app-v1", "devel/tl-module@v1"}, func(p *spec.Profile) {
			p.Tests = true
			p.Ports["misc/optioned"] = spec.PortSettings{OptionsSet: []string{"EXTRA"}, OptionsUnset: []string{"MINI"}}
			p.Ports["lang/tinylang@v1"] = spec.PortSettings{MakeEnv: map[string]string{"TL_DEBUG": "1"}}
		}},
		{"examples", "../../examples/ports", []string{"all"}, nil},
		// Names and versions as the real framework produces them.
		{"real-all", "real", []string{"all"}, nil},
		// With "all", ports that cannot be planned are failed nodes,
		// their dependents are skipped and the rest plans.
		{"errors-all", "errors", []string{"all"}, nil},
		{"cycle-all", "cycle", []string{"all"}, nil},
		// exclude: origins (every flavor), origin@flavor and category/*,
		// applied to "all" and to explicit targets alike; a port needing
		// an excluded one is skipped, and what only an excluded port
		// needed is not planned.
		{"select-exclude-all", "select", []string{"all"}, func(p *spec.Profile) {
			p.AllFlavors, p.Exclude = true, []string{"games/*", "lang/four@f2", "www/heavy"}
		}},
		{"select-exclude-targets", "select", []string{"games/big", "lang/four@all", "misc/needs-heavy", "misc/plain"}, func(p *spec.Profile) {
			p.Exclude = []string{"games/*", "lang/four@f2", "www/heavy"}
		}},
		// Flavors: "all" is every flavor of every port unless all_flavors
		// is false; origin@all is every flavor of one port.
		{"select-all", "select", []string{"all"}, func(p *spec.Profile) { p.AllFlavors = true }},
		{"select-all-default-flavors", "select", []string{"all"}, func(p *spec.Profile) { p.AllFlavors = false }},
		{"select-origin-all", "select", []string{"lang/four@all"}, func(p *spec.Profile) { p.AllFlavors = false }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, base := goldenProfile(t, c.tree, c.targets...)
			if c.setup != nil {
				c.setup(p)
			}
			pl, _ := mustCreate(t, Options{Profile: p, ProfileSource: []byte("# golden\n"), DsynthVersion: "test", Jobs: 3})
			b, err := Encode(pl)
			if err != nil {
				t.Fatal(err)
			}
			// Determinism: another run, other concurrency, same bytes.
			pl2, _ := mustCreate(t, Options{Profile: p, ProfileSource: []byte("# golden\n"), DsynthVersion: "test", Jobs: 1})
			b2, _ := Encode(pl2)
			if !bytes.Equal(b, b2) {
				t.Fatal("planning twice gave different bytes")
			}
			if _, err := Decode(b); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.name+".golden.json", normalize(b, p, base))
			var h bytes.Buffer
			RenderHuman(&h, pl)
			checkGolden(t, c.name+".golden.txt", normalize(h.Bytes(), p, base))
		})
	}
}

// TestGoldenErrors: explicit targets that cannot be built because they,
// or a dependency, failed to plan fail the plan with every problem behind
// them; the plan comes back all the same, and KeepGoing returns it
// without an error.
func TestGoldenErrors(t *testing.T) {
	cases := []struct {
		name    string
		tree    string
		targets []string
		kinds   []error
	}{
		{"errors-targets", "errors", []string{"devel/missing-dep", "devel/syntax-error", "misc/bad-flavor", "misc/needs-make-error", "misc/ok"},
			[]error{ErrMissingPort, ErrScan, ErrUnknownFlavor}},
		{"cycle-targets", "cycle", []string{"d/w", "e/leaf"}, []error{ErrCycle}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, base := goldenProfile(t, c.tree, c.targets...)
			pl, _, err := Create(t.Context(), Options{Profile: p, Jobs: 2})
			if err == nil {
				t.Fatal("no error")
			}
			for _, k := range c.kinds {
				if !errors.Is(err, k) {
					t.Errorf("error is not %v", k)
				}
			}
			checkGolden(t, c.name+".golden.txt", normalize([]byte(err.Error()+"\n"), p, base))
			if pl == nil || Summarize(pl).Failed == 0 {
				t.Fatalf("no plan with failed nodes beside the error: %v", pl)
			}
			kept, _, err := Create(t.Context(), Options{Profile: p, Jobs: 2, KeepGoing: true})
			if err != nil {
				t.Fatalf("KeepGoing: %v", err)
			}
			a, _ := Encode(pl)
			b, _ := Encode(kept)
			if !bytes.Equal(a, b) {
				t.Error("KeepGoing planned something else")
			}
		})
	}
}

// TestRenderChanges: plan's default output lists what changes and counts
// the rest; RenderHuman (plan -verbose, show) lists every node.
func TestRenderChanges(t *testing.T) {
	p := &Plan{Ports: []Node{
		{ID: "a/new", PkgName: "new-1", Action: ActionBuild, Reason: ReasonNew},
		{ID: "a/same", PkgName: "same-1", Action: ActionSkip, Reason: ReasonUpToDate},
		{ID: "b/changed", PkgName: "changed-2", Action: ActionBuild, Reason: ReasonPortChanged},
		{ID: "b/gone", Action: ActionFailed, Reason: "no such port (no Makefile in the tree)"},
		{ID: "c/broken", PkgName: "broken-1", Action: ActionIgnored, Reason: "is marked as broken: x"},
		{ID: "c/needs-gone", PkgName: "needs-gone-1", Action: ActionSkipped, Reason: "skipped: b/gone failed to plan"},
		{ID: "c/same-with-a-long-name", PkgName: "same2-1", Action: ActionSkip, Reason: ReasonUpToDate},
	}}
	var changes, all bytes.Buffer
	RenderChanges(&changes, p)
	RenderHuman(&all, p)
	checkGolden(t, "render-changes.golden.txt", changes.Bytes())
	checkGolden(t, "render-all.golden.txt", all.Bytes())
}
