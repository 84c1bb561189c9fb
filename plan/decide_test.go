package plan

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/spec"
)

func TestIncrementalDecisions(t *testing.T) {
	const (
		up  = "skip: up to date"
		ign = "ignored: is marked as broken: does not build"
		skp = "skipped: skipped: misc/ign is ignored"
	)
	base := map[string]string{
		"devel/app": up, "devel/mid": up, "devel/lib": up, "lang/py@py2": up, "lang/py@py3": up,
		"misc/ign": ign, "misc/user": skp, "ports-mgmt/pkg": up,
	}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	everything := func(reason string) map[string]string {
		return with(map[string]string{
			"devel/lib": "build: " + reason, "lang/py@py2": "build: " + reason, "lang/py@py3": "build: " + reason,
			"ports-mgmt/pkg": "build: " + reason,
			"devel/mid":      "build: " + reason + ", dependency changed", "devel/app": "build: " + reason + ", dependency changed",
		})
	}
	cases := []struct {
		name   string
		change func(t *testing.T, tree, base string, prof *spec.Profile, opt *Options)
		want   map[string]string
	}{
		{"nothing", func(*testing.T, string, string, *spec.Profile, *Options) {}, base},
		{"leaf port", func(t *testing.T, tree, _ string, _ *spec.Profile, _ *Options) {
			appendFile(t, filepath.Join(tree, "devel/lib/Makefile"), "# touched\n")
		}, with(map[string]string{"devel/lib": "build: port changed", "devel/mid": "build: dependency changed", "devel/app": "build: dependency changed"})},
		{"middle port", func(t *testing.T, tree, _ string, _ *spec.Profile, _ *Options) {
			appendFile(t, filepath.Join(tree, "devel/mid/files/patch-x"), "patch\n")
		}, with(map[string]string{"devel/mid": "build: port changed", "devel/app": "build: dependency changed"})},
		{"flavor of a dependency", func(t *testing.T, tree, _ string, _ *spec.Profile, _ *Options) {
			appendFile(t, filepath.Join(tree, "lang/py/distinfo"), "SHA256 (py.tgz) = 00\n")
		}, with(map[string]string{"lang/py@py2": "build: port changed", "lang/py@py3": "build: port changed", "devel/app": "build: dependency changed"})},
		{"profile option", func(_ *testing.T, _, _ string, prof *spec.Profile, _ *Options) {
			prof.Ports["devel/lib"] = spec.PortSettings{OptionsSet: []string{"X11"}}
		}, with(map[string]string{"devel/lib": "build: options changed", "devel/mid": "build: dependency changed", "devel/app": "build: dependency changed"})},
		{"options file", func(t *testing.T, _, base string, prof *spec.Profile, _ *Options) {
			writeFiles(t, prof.OptionsDir, map[string]string{"devel_lib/options": "OPTIONS_FILE_UNSET+=DOCS\n"})
		}, with(map[string]string{"devel/lib": "build: options changed", "devel/mid": "build: dependency changed", "devel/app": "build: dependency changed"})},
		{"make_env", func(_ *testing.T, _, _ string, prof *spec.Profile, _ *Options) {
			prof.Ports["devel/mid"] = spec.PortSettings{MakeEnv: map[string]string{"FOO": "1"}}
		}, with(map[string]string{"devel/mid": "build: make.conf changed", "devel/app": "build: dependency changed"})},
		{"make.conf", func(_ *testing.T, _, _ string, prof *spec.Profile, _ *Options) {
			prof.MakeConf["CFLAGS"] = "-O3"
		}, everything("make.conf changed")},
		{"framework", func(t *testing.T, tree, _ string, _ *spec.Profile, _ *Options) {
			appendFile(t, filepath.Join(tree, "Mk/bsd.port.mk"), "# new framework\n")
		}, everything("framework changed")},
		{"environment", func(_ *testing.T, _, _ string, prof *spec.Profile, _ *Options) {
			prof.Environment.Env["OSVERSION"] = "600500"
		}, everything("environment changed")},
		{"package missing", func(t *testing.T, _, base string, prof *spec.Profile, _ *Options) {
			os.Remove(filepath.Join(prof.PackagesDir, "All", "mid-2.0.pkg"))
		}, with(map[string]string{"devel/mid": "build: package missing"})},
		{"package differs", func(t *testing.T, _, base string, prof *spec.Profile, _ *Options) {
			appendFile(t, filepath.Join(prof.PackagesDir, "All", "app-1.0.pkg"), "garbage")
		}, with(map[string]string{"devel/app": "build: package differs"})},
		{"force", func(_ *testing.T, _, _ string, _ *spec.Profile, opt *Options) {
			opt.Force = []string{"devel/mid", "lang/py"} // lang/py: its default flavor, py3
		}, with(map[string]string{"devel/mid": "build: forced", "lang/py@py3": "build: forced"})},
		{"force a flavor", func(_ *testing.T, _, _ string, _ *spec.Profile, opt *Options) {
			opt.Force = []string{"lang/py@py2"}
		}, with(map[string]string{"lang/py@py2": "build: forced"})},
		{"force keeps a build's reason", func(t *testing.T, tree, _ string, _ *spec.Profile, opt *Options) {
			appendFile(t, filepath.Join(tree, "devel/mid/pkg-descr"), "edited\n")
			opt.Force = []string{"devel/mid", "devel/lib"}
		}, with(map[string]string{"devel/mid": "build: port changed", "devel/lib": "build: forced",
			"devel/app": "build: dependency changed"})},
		{"force all", func(_ *testing.T, _, _ string, _ *spec.Profile, opt *Options) {
			opt.ForceAll = true
		}, everything("forced")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tree := miniTree(t)
			base := t.TempDir()
			db := openDB(t, base)
			prof := testProfile(tree, base, "devel/app", "misc/user")
			p, _ := mustCreate(t, Options{Profile: prof, DB: db})
			markBuilt(t, db, p)
			opt := Options{Profile: prof, DB: db}
			c.change(t, tree, base, prof, &opt)
			p2, _ := mustCreate(t, opt)
			want := c.want
			if c.name == "force all" {
				want = with(map[string]string{"devel/lib": "build: forced", "lang/py@py2": "build: forced", "lang/py@py3": "build: forced",
					"ports-mgmt/pkg": "build: forced", "devel/mid": "build: forced", "devel/app": "build: forced"})
			}
			if got := actions(p2); !reflect.DeepEqual(got, want) {
				for k := range want {
					if got[k] != want[k] {
						t.Errorf("%s: got %q, want %q", k, got[k], want[k])
					}
				}
			}
		})
	}
}

func TestForceUnknown(t *testing.T) {
	tree := miniTree(t)
	_, _, err := Create(t.Context(), Options{Profile: testProfile(tree, t.TempDir(), "devel/mid"), Force: []string{"devel/app"}})
	if err == nil || !strings.Contains(err.Error(), "-force devel/app: no such port in the plan") {
		t.Fatalf("err = %v", err)
	}
}

func TestExternalInputs(t *testing.T) {
	tree := miniTree(t)
	writeFiles(t, tree, map[string]string{
		"devel/master/Makefile":        "PORTNAME?=master\nPORTVERSION=1.0\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
		"devel/master/distinfo":        "x\n",
		"devel/slave/Makefile":         "PORTNAME=slave\nMASTERDIR=${.CURDIR}/../master\n.include \"${MASTERDIR}/Makefile\"\n",
		"devel/common/Makefile.common": "COMMON_VERSION=5\n",
		"devel/inc/Makefile": "PORTNAME=inc\n.include \"${.CURDIR}/../../devel/common/Makefile.common\"\nPORTVERSION=${COMMON_VERSION}\n" +
			".include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
	})
	base := t.TempDir()
	db := openDB(t, base)
	prof := testProfile(tree, base, "devel/slave", "devel/inc")
	p, _ := mustCreate(t, Options{Profile: prof, DB: db})
	if s := p.Node("devel/slave"); s.PkgName != "slave-1.0" || s.External["devel/master/"] == "" {
		t.Fatalf("slave %+v", s)
	}
	if n := p.Node("devel/inc"); n.PkgName != "inc-5" || n.External["devel/common/Makefile.common"] == "" {
		t.Fatalf("inc %+v", n)
	}
	markBuilt(t, db, p)

	writeFiles(t, tree, map[string]string{
		"devel/master/Makefile":        "PORTNAME?=master\nPORTVERSION=1.1\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
		"devel/common/Makefile.common": "COMMON_VERSION=6\n",
	})
	ch, err := Verify(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range ch {
		got = append(got, c.String())
	}
	want := []string{"devel/inc: included devel/common/Makefile.common changed", "devel/slave: included devel/master/ changed"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Verify: %q, want %q", got, want)
	}
	p2, st := mustCreate(t, Options{Profile: prof, DB: db})
	if st.MakeRuns != 2 {
		t.Fatalf("%d make runs, want 2 (slave, inc)", st.MakeRuns)
	}
	if s := p2.Node("devel/slave"); s.PkgName != "slave-1.1" || s.Action != ActionBuild || s.Reason != ReasonPortChanged {
		t.Fatalf("slave after master change: %s %s %s", s.PkgName, s.Action, s.Reason)
	}
	if n := p2.Node("devel/inc"); n.PkgName != "inc-6" || n.Reason != ReasonPortChanged {
		t.Fatalf("inc after common change: %s %s", n.PkgName, n.Reason)
	}
}

func TestMetaPortUpToDate(t *testing.T) {
	tree := miniTree(t)
	writeFiles(t, tree, map[string]string{
		"misc/meta/Makefile": "PORTNAME=meta\nPORTVERSION=1\nUSES=metaport\nRUN_DEPENDS=app:devel/app\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
	})
	base := t.TempDir()
	db := openDB(t, base)
	prof := testProfile(tree, base, "misc/meta")
	p, _ := mustCreate(t, Options{Profile: prof, DB: db})
	if m := p.Node("misc/meta"); !m.Meta || m.PkgFile != "" || m.Action != ActionBuild {
		t.Fatalf("meta node %+v", m)
	}
	markBuilt(t, db, p)
	p, _ = mustCreate(t, Options{Profile: prof, DB: db})
	if got := actions(p)["misc/meta"]; got != "skip: up to date" {
		t.Fatalf("meta after build: %s", got)
	}
	appendFile(t, filepath.Join(tree, "devel/app/pkg-descr"), "more\n")
	p, _ = mustCreate(t, Options{Profile: prof, DB: db})
	if got := actions(p)["misc/meta"]; got != "build: dependency changed" {
		t.Fatalf("meta after app change: %s", got)
	}
}
