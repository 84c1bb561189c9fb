package rundiff_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/internal/buildtest"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan/rundiff"
)

func TestMain(m *testing.M) {
	isolate.MaybeRunHelper()
	os.Exit(m.Run())
}

// Two real runs of one profile: between them an option of misc/optioned
// is switched off, devel/libmini gets a new revision and a target is
// added. The diff names exactly those inputs: the option on
// misc/optioned, the port on devel/libmini, the dependency (and the
// installed dependency package) on libmini's dependents.
func TestDiffOptionAndDependency(t *testing.T) {
	e := buildtest.New(t, "good", []string{"misc/optioned"}, "")
	_, sumA := e.Apply()
	e.WriteProfile([]string{"misc/optioned", "misc/nondeterministic"},
		`  port "misc/optioned" {
    options_unset = ["DOCS"]
  }`)
	e.Edit("devel/libmini/Makefile", func(s string) string {
		return strings.Replace(s, "PORTVERSION=\t1.2\n", "PORTVERSION=\t1.2\nPORTREVISION=\t1\n", 1)
	})
	e.Commit("libmini: bump revision")
	_, sumB := e.Apply()

	db := e.Records()
	defer db.Close()
	a, err := rundiff.Load(db, sumA.RunID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rundiff.Load(db, sumB.RunID[:8])
	if err != nil {
		t.Fatal(err)
	}
	d := rundiff.Compare(a, b)
	var out strings.Builder
	rundiff.RenderHuman(&out, d)
	t.Logf("\n%s", out.String())

	if !reflect.DeepEqual(d.Added, []string{"misc/nondeterministic"}) || len(d.Removed) != 0 {
		t.Errorf("added %v removed %v", d.Added, d.Removed)
	}
	got := map[string][]string{}
	ports := map[string]rundiff.Port{}
	for _, p := range d.Ports {
		got[p.Node] = p.InputNames()
		ports[p.Node] = p
	}
	want := map[string][]string{
		"devel/libmini": {rundiff.InputPort},
		"misc/optioned": {rundiff.InputOptions, rundiff.InputDependency, rundiff.InputInstalled},
		// Built in A, up to date in B: only the outcome changed.
		"ports-mgmt/pkg": nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changed inputs\n got %v\nwant %v", got, want)
	}
	if len(d.Tree) != 1 || d.Tree[0].Input != "tree" {
		t.Errorf("tree-wide changes %v, want only the commit", d.Tree)
	}
	opt := ports["misc/optioned"]
	if len(opt.Inputs) == 0 || opt.Inputs[0].Detail != "-DOCS" {
		t.Errorf("optioned inputs %v, want -DOCS first", opt.Inputs)
	}
	for _, c := range opt.Inputs {
		if c.Input == rundiff.InputInstalled && c.Detail != "-libmini-1.2.pkg +libmini-1.2_1.pkg" {
			t.Errorf("installed change %q", c.Detail)
		}
		if c.Input == rundiff.InputDependency && c.Detail != "devel/libmini input key changed" {
			t.Errorf("dependency change %q", c.Detail)
		}
	}
	lm := ports["devel/libmini"]
	if lm.VersionA != "1.2" || lm.VersionB != "1.2_1" || lm.PackageA == "" || lm.PackageB == "" || lm.PackageA == lm.PackageB {
		t.Errorf("libmini: %+v", lm)
	}
	pkg := ports["ports-mgmt/pkg"]
	if pkg.OutcomeA != "success" || pkg.OutcomeB != "up-to-date" || pkg.PackageA != pkg.PackageB || pkg.PackageA == "" {
		t.Errorf("pkg: %+v", pkg)
	}

	// A run compared with itself has no differences.
	same := rundiff.Compare(a, a)
	if len(same.Ports)+len(same.Added)+len(same.Removed)+len(same.Tree) != 0 || same.Unchanged != len(a.Plan.Ports) {
		t.Errorf("self diff: %+v", same)
	}
}
