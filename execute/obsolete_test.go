package execute

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

// TestObsoletePackages: which files of packages_dir/All are obsolete and
// why, for a plan of some ports and for one of the whole tree.
func TestObsoletePackages(t *testing.T) {
	dir := t.TempDir()
	ports := filepath.Join(dir, "ports")
	for _, o := range []string{"devel/lib", "lang/py", "misc/excl", "misc/gone-flavor"} {
		os.MkdirAll(filepath.Join(ports, o), 0o755)
		os.WriteFile(filepath.Join(ports, o, "Makefile"), nil, 0o644)
	}
	all := filepath.Join(dir, "packages", "All")
	os.MkdirAll(all, 0o755)
	made := map[string]string{ // package file -> the node the records say made it
		"lib-0.9.pkg":      "devel/lib",
		"lib-1.0.pkg":      "devel/lib",
		"removed-1.0.pkg":  "misc/removed",
		"py-py27-1.0.pkg":  "lang/py@py27",
		"py-py311-1.0.pkg": "lang/py@py311",
		"excl-1.0.pkg":     "misc/excl",
		"other-1.0.pkg":    "misc/gone-flavor",
	}
	for f := range made {
		os.WriteFile(filepath.Join(all, f), []byte("package "+f), 0o644)
	}
	os.WriteFile(filepath.Join(all, "stray-1.0.pkg"), []byte("?"), 0o644)
	os.WriteFile(filepath.Join(all, ".hidden.pkg"), []byte("?"), 0o644)
	records := filepath.Join(dir, "records.db")
	db, err := record.Open(records, record.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Write(func(tx *record.Tx) error {
		i := 0
		for f, id := range made {
			i++
			origin, _, _ := strings.Cut(id, "@")
			if err := tx.PutAttempt(&record.Attempt{ID: f, RunID: "r", NodeID: id, Origin: origin,
				Status: record.AttemptSuccess, PkgFile: f, Start: time.Unix(int64(i), 0)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	nodes := []plan.Node{
		{ID: "devel/lib", Origin: "devel/lib", PkgFile: "lib-1.0.pkg"},
		{ID: "lang/py@py311", Origin: "lang/py", Flavor: "py311", PkgFile: "py-py311-1.0.pkg"},
	}
	for _, tc := range []struct {
		name    string
		targets []string
		extra   []plan.Node
		want    []string
	}{
		{"some ports", []string{"devel/lib", "lang/py@py311"}, nil, []string{
			"lib-0.9.pkg (old package of devel/lib, which now makes lib-1.0.pkg)",
			"removed-1.0.pkg (misc/removed was removed from the ports tree)",
		}},
		{"whole tree", []string{spec.AllPorts}, nil, []string{
			"lib-0.9.pkg (old package of devel/lib, which now makes lib-1.0.pkg)",
			"other-1.0.pkg (misc/gone-flavor is not in the tree's plan any more)",
			"py-py27-1.0.pkg (lang/py has no flavor py27 any more)",
			"removed-1.0.pkg (misc/removed was removed from the ports tree)",
			"stray-1.0.pkg (no port of the tree makes it)",
		}},
		{"whole tree, a port failed to plan", []string{spec.AllPorts}, []plan.Node{{ID: "misc/broken", Origin: "misc/broken", Action: plan.ActionFailed}}, []string{
			"lib-0.9.pkg (old package of devel/lib, which now makes lib-1.0.pkg)",
			"other-1.0.pkg (misc/gone-flavor is not in the tree's plan any more)",
			"py-py27-1.0.pkg (lang/py has no flavor py27 any more)",
			"removed-1.0.pkg (misc/removed was removed from the ports tree)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &plan.Plan{Settings: plan.Settings{PortsDir: ports, PackagesDir: filepath.Join(dir, "packages"),
				Targets: tc.targets, AllFlavors: true, Exclude: []string{"misc/excl"}}}
			p.Ports = append(append([]plan.Node(nil), nodes...), tc.extra...)
			obs, err := ObsoletePackages(p, db)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range obs {
				got = append(got, o.String())
				if o.Size == 0 {
					t.Errorf("%s: no size", o.File)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("obsolete:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
