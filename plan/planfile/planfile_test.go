package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/spec"
)

// sampleSettings are a resolved profile's, as spec.Load gives it.
func sampleSettings() plan.Settings {
	base := "/b"
	return plan.SettingsOf(&spec.Profile{
		Name:          "p",
		PortsDir:      "/ports",
		BuildBase:     base,
		PackagesDir:   filepath.Join(base, "packages"),
		DistfilesDir:  filepath.Join(base, "distfiles"),
		OptionsDir:    filepath.Join(base, "options"),
		LogsDir:       filepath.Join(base, "logs"),
		Records:       filepath.Join(base, "records.db"),
		SystemDir:     "/",
		PackageSuffix: ".pkg",
		MakeCommand:   "bmake",
		MakeConf:      map[string]string{"B": "2", "A": "1"},
		Targets:       []string{"devel/a"},
		Ports:         map[string]spec.PortSettings{},
		Workers:       spec.Workers{Count: 2, MaxJobs: 1},
		Environment:   spec.Environment{Isolation: "chroot", Network: "fetch", Env: map[string]string{}, Mounts: []spec.Mount{}},
	})
}

func samplePlan() *Plan {
	return &Plan{
		DsynthVersion: "test",
		Settings:      sampleSettings(),
		ProfileSource: "profile \"p\" {}\n",
		Tree:          Tree{Path: "/ports", MkHash: "00"},
		Environment:   Environment{Vars: map[string]string{"OPSYS": "DragonFly"}, Key: "k"},
		Ports: []Node{
			{ID: "devel/a", Origin: "devel/a", PkgName: "a-1", Version: "1", CRC32: "0000abcd",
				Deps: map[DepKind][]string{DepBuild: {"devel/b"}}, Action: ActionBuild, Reason: ReasonNew},
			{ID: "devel/b", Origin: "devel/b", PkgName: "b-1", Version: "1", CRC32: "0000abce",
				Deps: map[DepKind][]string{}, Action: ActionSkip, Reason: ReasonUpToDate, Priority: 1},
		},
		Order: []string{"devel/b", "devel/a"},
	}
}

type (
	Plan        = plan.Plan
	Node        = plan.Node
	Tree        = plan.Tree
	Environment = plan.Environment
	DepKind     = plan.DepKind
)

const (
	DepBuild       = plan.DepBuild
	DepRun         = plan.DepRun
	ActionBuild    = plan.ActionBuild
	ActionSkip     = plan.ActionSkip
	ReasonNew      = plan.ReasonNew
	ReasonUpToDate = plan.ReasonUpToDate
)

// encode is the bytes of Encode(p).
func encode(t *testing.T, p *Plan) []byte {
	t.Helper()
	f, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	return f.Bytes()
}

// TestReadFormat1 reads a plan file written by a dsynth of format 1 (which
// left empty flavors out): it verifies, and edits are still caught.
func TestReadFormat1(t *testing.T) {
	f := "../../testdata/plan/format1.plan.json"
	pf, err := Read(f)
	if err != nil {
		t.Fatalf("format 1 plan: %v", err)
	}
	p := pf.Plan()
	if pf.FormatVersion() != 1 || len(p.Ports) != 4 || p.Node("misc/minicat") == nil || p.Node("misc/minicat").Flavor != "" {
		t.Fatalf("format 1 plan read as %+v", p)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(bytes.Replace(b, []byte(`"origin": "misc/minicat"`), []byte(`"origin": "misc/minicat", "flavor": "x"`), 1)); !errors.Is(err, ErrDigest) {
		t.Errorf("format 1 plan with a flavor added: %v, want ErrDigest", err)
	}
	// Written again, it is a plan of the current format with every flavor.
	out := encode(t, p)
	if q, err := Decode(out); err != nil || q.FormatVersion() != FormatVersion || bytes.Count(out, []byte(`"flavor"`)) != 4 {
		t.Errorf("re-encoded format 1 plan: version %v, %v, %d flavor keys", q, err, bytes.Count(out, []byte(`"flavor"`)))
	}
}

func TestPlanFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "x.plan")
	p := samplePlan()
	pf, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest != "" {
		t.Fatal("Encode modified its argument")
	}
	if err := pf.Write(f); err != nil {
		t.Fatal(err)
	}
	gf, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	got := gf.Plan()
	if got.Digest != pf.Digest() || gf.Digest() != pf.Digest() || !bytes.Equal(gf.Bytes(), pf.Bytes()) || len(got.Ports) != 2 || got.Ports[0].Deps[DepBuild][0] != "devel/b" {
		t.Fatalf("round trip lost data: %+v", got)
	}
	a, _ := os.ReadFile(f)
	if !bytes.Equal(a, encode(t, got)) {
		t.Fatal("re-encoding a read plan changed its bytes")
	}
	if !IsPlanFile(f) {
		t.Fatal("IsPlanFile(plan) = false")
	}
}

func TestReadRejectsBadFiles(t *testing.T) {
	s := string(encode(t, samplePlan()))
	cases := []struct {
		name string
		data string
		want error
	}{
		{"empty", "", ErrNotPlan},
		{"text", "hello world\n", ErrNotPlan},
		{"foreign json", `{"name": "x", "version": 3}`, ErrNotPlan},
		{"json array", `[1,2]`, ErrNotPlan},
		{"truncated", s[:len(s)/2], ErrCorrupt},
		{"truncated head", s[:40], ErrCorrupt},
		{"future version", strings.Replace(s, fmt.Sprintf(`"format_version": %d`, FormatVersion), `"format_version": 99`, 1), ErrFormatVersion},
		{"version 0", strings.Replace(s, fmt.Sprintf(`"format_version": %d`, FormatVersion), `"format_version": 0`, 1), ErrFormatVersion},
		{"edited body", strings.Replace(s, `"reason": "new"`, `"reason": "forced"`, 1), ErrDigest},
		{"edited digest", strings.Replace(s, `"digest": "`, `"digest": "0`, 1), ErrDigest},
		{"no digest", strings.Replace(s, `"digest"`, `"digestx"`, 1), ErrCorrupt},
		{"unknown field", strings.Replace(s, `"dsynth_version"`, `"extra": 1, "dsynth_version"`, 1), ErrCorrupt},
		{"trailing data", s + "{}", ErrCorrupt},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			if err := os.WriteFile(f, []byte(c.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(f)
			if !errors.Is(err, c.want) {
				t.Fatalf("Read: got %v, want %v", err, c.want)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != f {
				t.Fatalf("error %v is not a *FileError naming the file", err)
			}
		})
	}
}

func TestDigestIgnoresNothing(t *testing.T) {
	a := samplePlan()
	b := samplePlan()
	b.Ports[1].Priority = 2
	if encode(t, a) == nil || bytes.Equal(encode(t, a), encode(t, b)) {
		t.Fatal("digest does not cover node fields")
	}
}

// TestDecodeChecksGraph: an edited plan whose digest was recomputed must
// still be a graph a planner could have made.
func TestDecodeChecksGraph(t *testing.T) {
	for _, c := range []struct {
		name, want string
		edit       func(p *Plan)
	}{
		{"unknown dependency", "devel/a depends on no/such, which is not in the plan", func(p *Plan) {
			p.Ports[0].Deps[DepBuild] = append(p.Ports[0].Deps[DepBuild], "no/such")
		}},
		{"duplicate node", "devel/a given twice", func(p *Plan) {
			p.Ports = append([]Node{p.Ports[0]}, p.Ports...)
		}},
		{"cycle", "order builds devel/b before its dependency devel/a", func(p *Plan) {
			p.Ports[1].Deps[DepRun] = []string{"devel/a"}
		}},
		{"order", "order lists 1 nodes, the plan has 2", func(p *Plan) { p.Order = p.Order[:1] }},
	} {
		p := samplePlan()
		c.edit(p)
		b := encode(t, p)
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want corrupt: %s", c.name, err, c.want)
		}
	}
	if _, err := Decode(encode(t, samplePlan())); err != nil {
		t.Errorf("the sample plan itself: %v", err)
	}
}

// TestDecodeChecksSettings: a plan edited by hand and digested again
// with the project's own encoder must still pass every rule a profile
// passes (dsynth validate's words, naming the field), and its nodes must
// have names a planner could have given them.
func TestDecodeChecksSettings(t *testing.T) {
	for _, c := range []struct {
		name, want string
		edit       func(p *Plan)
	}{
		{"packages in /", `profile.packages_dir: Invalid path: packages_dir must not be the root folder "/"`, func(p *Plan) { p.Settings.PackagesDir = "/" }},
		{"100000 workers", "profile.workers.count: Value out of range: count must be between 1 and 256, got 100000.", func(p *Plan) { p.Settings.Workers.Count = 100000 }},
		{"no workers", "profile.workers.count: Value out of range", func(p *Plan) { p.Settings.Workers.Count = 0 }},
		{"relative logs", "profile.logs_dir: Invalid path: logs_dir must be an absolute, clean path", func(p *Plan) { p.Settings.LogsDir = "logs" }},
		{"empty build base", "profile.build_base: Invalid path: build_base must not be empty.", func(p *Plan) { p.Settings.BuildBase = "" }},
		{"network", `profile.environment.network: Invalid network mode: "host" is not a valid network mode`, func(p *Plan) { p.Settings.Environment.Network = "host" }},
		{"reserved mount", `profile.environment.mount["/packages/All"]: Invalid mount target`, func(p *Plan) {
			p.Settings.Environment.Mounts = []plan.Mount{{Target: "/packages/All", Source: "/etc", ReadOnly: false}}
		}},
		{"mount over the root", `profile.environment.mount["/"]: Invalid mount target: A mount cannot replace the slot's root "/".`, func(p *Plan) {
			p.Settings.Environment.Mounts = []plan.Mount{{Target: "/", Source: "/"}}
		}},
		{"make_conf name", `profile.make_conf: Invalid variable name: make_conf["A=B"]`, func(p *Plan) { p.Settings.MakeConf["A=B"] = "1" }},
		{"option", `profile.ports["devel/a"].options_set: Invalid option name`, func(p *Plan) {
			p.Settings.Ports["devel/a"] = plan.PortSettings{OptionsSet: []string{"$(rm -rf /)"}}
		}},
		{"target", `profile.ports: Invalid origin: "../../etc" is not a port origin`, func(p *Plan) { p.Settings.Targets = []string{"../../etc"} }},
		{"nice", "profile.workers.nice: Value out of range: nice must be between -20 and 20, got -40.", func(p *Plan) { p.Settings.Workers.Nice = -40 }},
		{"node origin", `ports["devel/a"].origin: Invalid origin: "../a" is not a port origin`, func(p *Plan) { p.Ports[0].Origin = "../a" }},
		{"node id", `ports["devel/a"].id: the id of devel/x@f is devel/x@f, not devel/a`, func(p *Plan) { p.Ports[0].Origin, p.Ports[0].Flavor = "devel/x", "f" }},
		{"pkgfile path", `ports["devel/a"].pkgfile: "../../etc/passwd" is not a package file name`, func(p *Plan) { p.Ports[0].PkgFile = "../../etc/passwd" }},
		{"pkgfile dot", `ports["devel/a"].pkgfile: ".hidden.pkg" is not a package file name`, func(p *Plan) { p.Ports[0].PkgFile = ".hidden.pkg" }},
		{"pkgname", `ports["devel/a"].pkgname: PKGNAME "a\x1b[31m" has a control character`, func(p *Plan) { p.Ports[0].PkgName = "a\x1b[31m" }},
		{"make env", `ports["devel/a"].make_env: Invalid variable value`, func(p *Plan) { p.Ports[0].MakeEnv = map[string]string{"X": "a\x00"} }},
		{"environment", `environment.vars: Invalid variable name`, func(p *Plan) { p.Environment.Vars["A B"] = "1" }},
	} {
		p := samplePlan()
		c.edit(p)
		b := encode(t, p)
		_, err := Decode(b)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant ErrInvalid with: %s", c.name, err, c.want)
		}
	}
}

// TestReadRealPlanFile: a plan made from a test tree with a profile file
// is written, read back and verified.
func TestReadRealPlanFile(t *testing.T) {
	tree, err := filepath.Abs("../../testdata/ports/good")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pf := filepath.Join(dir, "p.hcl")
	src := fmt.Sprintf("profile \"p\" {\n  ports_dir = %q\n  build_base = %q\n  ports = [\"misc/minicat\"]\n  workers { count = 2 }\n}\n", tree, dir)
	if err := os.WriteFile(pf, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	l, diags := spec.Load(pf, spec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, _, err := plan.Create(t.Context(), plan.Options{Profile: l.Profile, ProfileSource: l.Source, DsynthVersion: "test", Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	file, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "p.plan")
	if err := file.Write(f); err != nil {
		t.Fatal(err)
	}
	q, err := Read(f)
	if err != nil || q.Digest() != file.Digest() || q.Plan().Node("misc/minicat") == nil {
		t.Fatalf("read back: %v", err)
	}
}

// TestDomainUntagged: the plan's types carry no encoding tags: the wire
// structs here are the only code that knows the format.
func TestDomainUntagged(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(ty reflect.Type, path string)
	walk = func(ty reflect.Type, path string) {
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			walk(ty.Elem(), path)
			return
		case reflect.Struct:
		default:
			return
		}
		if seen[ty] || ty.PkgPath() != reflect.TypeOf(plan.Plan{}).PkgPath() {
			return
		}
		seen[ty] = true
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			if f.Tag != "" {
				t.Errorf("%s.%s has the tag %q", ty.Name(), f.Name, f.Tag)
			}
			walk(f.Type, path+"."+f.Name)
		}
	}
	walk(reflect.TypeOf(plan.Plan{}), "Plan")
	if len(seen) < 8 {
		t.Fatalf("walked %d types of package plan, want Plan, Node, Settings and theirs", len(seen))
	}
}

// TestStreamedEncodingIsTheWireStruct: the encoder writes node by node;
// its bytes and digest must be exactly json.MarshalIndent's and the
// digest of json.Marshal's canonical body, whatever the plan holds.
func TestStreamedEncodingIsTheWireStruct(t *testing.T) {
	cases := map[string]func(p *Plan){
		"sample":   func(p *Plan) {},
		"no nodes": func(p *Plan) { p.Ports, p.Order = nil, nil },
		"empty":    func(p *Plan) { p.Ports, p.Order = []Node{}, []string{} },
		"pkg node": func(p *Plan) { p.PkgNode = "devel/b" },
		"escapes": func(p *Plan) {
			p.Ports[0].Reason = "<a & b> \u2028 \"q\" \\ é"
			p.ProfileSource = "profile \"p\" {\n\t# <&>\n}\n"
			p.Ports[0].MakeEnv = map[string]string{"Z": "1", "A": "<2>"}
		},
		"hooks and farm": func(p *Plan) {
			p.Settings.Hooks = &plan.Hooks{RunStart: "/bin/true", Timeout: time.Minute}
			p.Settings.Executor = &plan.Executor{Kind: "temporal", Address: "h:1", TLS: &plan.TLS{CAFile: "/ca"}}
			p.Settings.Environment.Mounts = []plan.Mount{{Target: "/a", Source: "/b", ReadOnly: true}}
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			p := samplePlan()
			edit(p)
			f, err := Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			w := toFile(p, FormatVersion)
			body, err := canonicalBody(w)
			if err != nil {
				t.Fatal(err)
			}
			w.Digest = digestOf(body)
			want, err := json.MarshalIndent(w, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			if f.Digest() != w.Digest || !bytes.Equal(f.Bytes(), want) {
				t.Fatalf("digest %s, want %s\ngot:\n%s\nwant:\n%s", f.Digest(), w.Digest, f.Bytes(), want)
			}
			var sb strings.Builder
			if d, err := WriteTo(&sb, p); err != nil || d != w.Digest || sb.String() != string(want) {
				t.Fatalf("WriteTo: %s %v", d, err)
			}
			path := filepath.Join(t.TempDir(), "p.plan")
			if d, err := WriteFile(path, p); err != nil || d != w.Digest {
				t.Fatalf("WriteFile: %s %v", d, err)
			}
			if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("WriteFile wrote other bytes: %v", err)
			}
		})
	}
}
