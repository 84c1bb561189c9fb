package plan

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/spec"
)

// copyTree copies the test tree testdata/ports/name into a temporary
// directory, following symbolic links (its Mk links to the single
// framework), so that a test can edit it.
func copyTree(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	if err := copyDir(filepath.Join("..", "testdata", "ports", name), dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.Type()&fs.ModeSymlink != 0 {
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return err
			}
			if fi, err := os.Stat(real); err == nil && fi.IsDir() {
				return copyDir(real, target)
			}
			p = real
		}
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// usesGmake is the tree's Mk/Uses/gmake.mk (written by the tests: the
// framework's Mk is shared by every test tree).
const usesGmake = "# USES=gmake: the port's build runs GNU make (read by misc/one and\n# misc/two only).\n" +
	"CONFIGURE_ENV+=\tMAKE=gmake\nMAKE_ARGS+=\t--no-print-directory\n"

// TestRebuildPolicies runs the changes a real week of a ports tree is made
// of on testdata/ports/rebuild (real bmake, a framework that includes
// Mk/Uses/<name>.mk for each USES entry as the real one does, plus
// usesGmake) under both
// rebuild policies, checking every node's action and reason after each:
// a comment in Mk/bsd.port.mk, an unread Mk/Uses file, a comment and then
// a real change in Mk/Uses/gmake.mk (read by misc/one and misc/two only),
// and a change of a build-only dependency (devel/tool, needed by
// misc/three to build).
//
// The tree: misc/needs-one needs misc/one to run, misc/links-two links
// with misc/two, misc/builds-with-two needs misc/two to build.
func TestRebuildPolicies(t *testing.T) {
	type step struct {
		name   string
		change func(t *testing.T, tree string)
		// want maps the nodes that rebuild to their reasons, under
		// rebuild = "recipe" and rebuild = "makefiles"; every other
		// node is up to date.
		recipe, makefiles map[string]string
	}
	all := []string{"devel/tool", "misc/builds-with-two", "misc/links-two", "misc/needs-one", "misc/one", "misc/three", "misc/two"}
	steps := []step{
		{"comment in Mk/bsd.port.mk", func(t *testing.T, tree string) {
			appendFile(t, filepath.Join(tree, "Mk/bsd.port.mk"), "# a comment\n")
		}, nil, func() map[string]string {
			m := map[string]string{}
			for _, id := range all {
				m[id] = "framework changed (Mk/bsd.port.mk)"
			}
			fc := "framework changed"
			m["misc/needs-one"] += ", dependency changed (misc/one: " + fc + ")"
			m["misc/links-two"] += ", dependency changed (misc/two: " + fc + ")"
			m["misc/builds-with-two"] += ", dependency changed (misc/two: " + fc + ")"
			m["misc/three"] += ", dependency changed (devel/tool: " + fc + ")"
			return m
		}()},
		{"unread Mk/Uses file", func(t *testing.T, tree string) {
			writeFiles(t, tree, map[string]string{"Mk/Uses/foo.mk": "# USES=foo: no port uses it\nCFLAGS+=\t-DFOO\n"})
		}, nil, nil},
		{"comment in a Uses file read by two ports", func(t *testing.T, tree string) {
			appendFile(t, filepath.Join(tree, "Mk/Uses/gmake.mk"), "# a comment\n")
		}, nil, map[string]string{
			"misc/one": "framework changed (Mk/Uses/gmake.mk)", "misc/two": "framework changed (Mk/Uses/gmake.mk)",
			"misc/needs-one":       "dependency changed (misc/one: framework changed)",
			"misc/links-two":       "dependency changed (misc/two: framework changed)",
			"misc/builds-with-two": "dependency changed (misc/two: framework changed)",
		}},
		{"recipe change in a Uses file read by two ports", func(t *testing.T, tree string) {
			writeFiles(t, tree, map[string]string{"Mk/Uses/gmake.mk": "CONFIGURE_ENV+=\tMAKE=gmake4\nMAKE_ARGS+=\t--no-print-directory\n"})
		}, map[string]string{
			"misc/one": "framework changed (CONFIGURE_ENV)", "misc/two": "framework changed (CONFIGURE_ENV)",
			"misc/needs-one": "dependency changed (misc/one: framework changed)",
			"misc/links-two": "dependency changed (misc/two: framework changed)",
			// misc/builds-with-two needs misc/two to build only.
		}, map[string]string{
			"misc/one": "framework changed (Mk/Uses/gmake.mk)", "misc/two": "framework changed (Mk/Uses/gmake.mk)",
			"misc/needs-one":       "dependency changed (misc/one: framework changed)",
			"misc/links-two":       "dependency changed (misc/two: framework changed)",
			"misc/builds-with-two": "dependency changed (misc/two: framework changed)",
		}},
		{"build-only dependency", func(t *testing.T, tree string) {
			writeFiles(t, tree, map[string]string{"devel/tool/Makefile": "PORTNAME=\ttool\nPORTVERSION=\t1.1\nCATEGORIES=\tdevel\n\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n"})
		}, map[string]string{"devel/tool": "port changed (devel/tool/Makefile)"},
			map[string]string{"devel/tool": "port changed (devel/tool/Makefile)", "misc/three": "dependency changed (devel/tool: 1.0 -> 1.1, port changed)"}},
	}
	for _, policy := range []string{spec.RebuildRecipe, spec.RebuildMakefiles} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			tree := copyTree(t, "rebuild")
			writeFiles(t, tree, map[string]string{"Mk/Uses/gmake.mk": usesGmake})
			base := t.TempDir()
			db := openDB(t, base)
			prof := testProfile(tree, base, "misc/needs-one", "misc/links-two", "misc/builds-with-two", "misc/three")
			if policy == spec.RebuildMakefiles {
				prof.Rebuild = policy
			}
			p, _ := mustCreate(t, Options{Profile: prof, DB: db})
			if got := len(p.Ports); got != len(all) {
				t.Fatalf("%d nodes, want %d", got, len(all))
			}
			markBuilt(t, db, p)
			for _, s := range steps {
				s.change(t, tree)
				p, _ := mustCreate(t, Options{Profile: prof, DB: db})
				want := map[string]string{}
				rebuild := s.recipe
				if policy == spec.RebuildMakefiles {
					rebuild = s.makefiles
				}
				for _, id := range all {
					want[id] = "skip: up to date"
					if r, ok := rebuild[id]; ok {
						want[id] = "build: " + r
					}
				}
				if got := actions(p); !reflect.DeepEqual(got, want) {
					for _, id := range all {
						if got[id] != want[id] {
							t.Errorf("%s: %s: %q, want %q", s.name, id, got[id], want[id])
						}
					}
				}
				markBuilt(t, db, p) // the next step starts from a built tree
			}
		})
	}
}

// The recipe a port's key covers under the default policy does not hold
// the ports tree's path: a tree moved elsewhere rebuilds nothing.
func TestRecipeWithoutTreePath(t *testing.T) {
	tree := copyTree(t, "rebuild")
	writeFiles(t, tree, map[string]string{"Mk/Uses/gmake.mk": usesGmake})
	base := t.TempDir()
	prof := testProfile(tree, base, "misc/two")
	p, _ := mustCreate(t, Options{Profile: prof})
	n := p.Node("misc/two")
	if n.RecipeHash == "" || !strings.Contains(n.Recipe, "CONFIGURE_ENV=") || !strings.Contains(n.Recipe, "USES=") {
		t.Fatalf("misc/two recipe %q (hash %q)", n.Recipe, n.RecipeHash)
	}
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(tree, moved); err != nil {
		t.Fatal(err)
	}
	prof.PortsDir = moved
	p2, _ := mustCreate(t, Options{Profile: prof})
	if got := p2.Node("misc/two").RecipeHash; got != n.RecipeHash {
		t.Fatalf("recipe hash after a move: %s, was %s", got, n.RecipeHash)
	}
}
