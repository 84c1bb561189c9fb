package rundiff

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// side builds a synthetic run: a, b and c where a depends on b.
func side(id string, edit func(p *plan.Plan, atts map[string]*record.Attempt)) *Side {
	p := &plan.Plan{
		Settings:    plan.Settings{Name: "t", MakeConf: map[string]string{"CFLAGS": "-O2"}, Environment: plan.SlotEnvironment{Env: map[string]string{}}},
		Tree:        plan.Tree{GitCommit: "1111111111111111111111111111111111111111", MkHash: "mk1"},
		Environment: plan.Environment{Vars: map[string]string{"OSVERSION": "600400", "CFLAGS": "-O2"}, SystemID: "sys1"},
		Ports: []plan.Node{
			{ID: "cat/a", Version: "1.0", CRC32: "aaaaaaaa", PortHash: "ha", InputKey: "ka", SelectedOptions: []string{"DOCS"},
				Deps: map[plan.DepKind][]string{plan.DepLib: {"cat/b"}}},
			{ID: "cat/b", Version: "2.0", CRC32: "bbbbbbbb", PortHash: "hb", InputKey: "kb"},
			{ID: "cat/c", Version: "3.0", CRC32: "cccccccc", PortHash: "hc", InputKey: "kc"},
		},
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	atts := map[string]*record.Attempt{}
	for _, n := range p.Ports {
		atts[n.ID] = &record.Attempt{NodeID: n.ID, Status: record.AttemptSuccess, Start: t0, End: t0.Add(2 * time.Second)}
	}
	atts["cat/a"].DepsInstalled = []string{"b-2.0.pkg"}
	if edit != nil {
		edit(p, atts)
	}
	pk := map[string]NodePackage{}
	for _, n := range p.Ports {
		pk[n.ID] = NodePackage{SHA256: "sha-" + n.InputKey}
	}
	return &Side{Run: &record.Run{ID: id, ProfileName: "t", Start: t0, Status: record.RunSuccess}, Plan: p, Attempts: atts, Packages: pk}
}

func TestCompareInputs(t *testing.T) {
	a := side("run-a", nil)
	for _, c := range []struct {
		name string
		edit func(p *plan.Plan, atts map[string]*record.Attempt)
		tree []string
		want map[string][]string
	}{
		{"nothing", nil, nil, map[string][]string{}},
		{"make.conf", func(p *plan.Plan, _ map[string]*record.Attempt) {
			p.Settings.MakeConf = map[string]string{"CFLAGS": "-O3"}
			p.Environment.Vars["CFLAGS"] = "-O3"
		}, []string{InputMakeConf}, map[string][]string{
			"cat/a": {InputMakeConf}, "cat/b": {InputMakeConf}, "cat/c": {InputMakeConf}}},
		{"environment and framework", func(p *plan.Plan, _ map[string]*record.Attempt) {
			p.Environment.Vars["OSVERSION"] = "600500"
			p.Tree.MkHash = "mk2"
		}, []string{InputFramework, InputEnvironment}, map[string][]string{
			"cat/a": {InputFramework, InputEnvironment}, "cat/b": {InputFramework, InputEnvironment}, "cat/c": {InputFramework, InputEnvironment}}},
		{"make_env and options file", func(p *plan.Plan, _ map[string]*record.Attempt) {
			p.Ports[2].MakeEnv = map[string]string{"X": "1"}
			p.Ports[2].OptionsFileHash = "of"
		}, nil, map[string][]string{"cat/c": {InputOptions, InputMakeConf}}},
		{"dependency", func(p *plan.Plan, atts map[string]*record.Attempt) {
			p.Ports[1].PortHash, p.Ports[1].CRC32, p.Ports[1].InputKey, p.Ports[1].Version = "hb2", "bbbbbbb2", "kb2", "2.1"
			p.Ports[0].InputKey = "ka2"
			atts["cat/a"].DepsInstalled = []string{"b-2.1.pkg"}
		}, nil, map[string][]string{"cat/a": {InputDependency, InputInstalled}, "cat/b": {InputPort}}},
		{"outcome only", func(p *plan.Plan, atts map[string]*record.Attempt) {
			atts["cat/c"].Status = record.AttemptFailed
		}, nil, map[string][]string{"cat/c": nil}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Compare(a, side("run-b", c.edit))
			got := map[string][]string{}
			for _, p := range d.Ports {
				got[p.Node] = p.InputNames()
			}
			var tree []string
			for _, ch := range d.Tree {
				tree = append(tree, ch.Input)
			}
			if !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(tree, c.tree) {
				t.Errorf("ports %v tree %v\nwant   %v tree %v", got, tree, c.want, c.tree)
			}
		})
	}
}

func TestRenderGolden(t *testing.T) {
	b := side("run-b", func(p *plan.Plan, atts map[string]*record.Attempt) {
		p.Tree.GitCommit = "2222222222222222222222222222222222222222"
		p.Ports[0].SelectedOptions = []string{"EXTRA"}
		p.Ports[0].OptionsEnv = map[string]string{"cat_a_SET": "EXTRA"}
		p.Ports[0].InputKey = "ka2"
		p.Ports = append(p.Ports[:2], plan.Node{ID: "cat/d", Version: "4.0", InputKey: "kd"})
		atts["cat/a"].Status = record.AttemptFailed
	})
	d := Compare(side("run-a", nil), b)
	for _, c := range []struct {
		file   string
		render func(*bytes.Buffer) error
	}{
		{"diff.golden.txt", func(w *bytes.Buffer) error { return RenderHuman(w, d) }},
		{"diff.golden.json", func(w *bytes.Buffer) error { return RenderJSON(w, d) }},
	} {
		var w bytes.Buffer
		if err := c.render(&w); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "..", "testdata", "rundiff", c.file)
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./plan/rundiff -run Golden -update)", err)
		}
		if !bytes.Equal(w.Bytes(), want) {
			t.Errorf("%s differs (run with -update if intended):\n%s", path, w.String())
		}
	}
}
