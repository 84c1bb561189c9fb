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
	// dc is "dependency changed (a: how; b: how)": the dependencies a
	// "dependency changed" names, each with how it changed.
	dc := func(ids ...string) string { return "dependency changed (" + strings.Join(ids, "; ") + ")" }
	// Under the default (recipe) policy a change cascades through library
	// and run dependencies only: devel/mid needs devel/lib (LIB), devel/app
	// needs devel/lib and lang/py@py2 (RUN) and, to build only, devel/mid
	// and lang/py@py3. Under rebuild = "makefiles" every kind cascades.
	everything := func(reason string, strict bool) map[string]string {
		r := bareReason(reason)
		app := dc("devel/lib: "+r, "lang/py@py2: "+r)
		if strict {
			app = dc("devel/lib: "+r, "devel/mid: "+r+", dependency changed", "lang/py@py2: "+r, "lang/py@py3: "+r)
		}
		return with(map[string]string{
			"devel/lib": "build: " + reason, "lang/py@py2": "build: " + reason, "lang/py@py3": "build: " + reason,
			"ports-mgmt/pkg": "build: " + reason,
			"devel/mid":      "build: " + reason + ", " + dc("devel/lib: "+r), "devel/app": "build: " + reason + ", " + app,
		})
	}
	cases := []struct {
		name   string
		change func(t *testing.T, tree, base string, prof *spec.Profile, opt *Options)
		want   map[string]string // rebuild = "makefiles"
		recipe map[string]string // the default policy, when it differs
	}{
		{"nothing", func(*testing.T, string, string, *spec.Profile, *Options) {}, base, nil},
		{"leaf port", func(t *testing.T, tree, _ string, _ *spec.Profile, _ *Options) {
			appendFile(t, filepath.Join(tree, "devel/lib/Makefile"), "# touched\n")
		}, with(map[string]string{"devel/lib": "build: port changed (devel/lib/Makefile)", "devel/mid": "build: " + dc("devel/lib: port changed"), "devel/app": "build: " + dc("devel/lib: port changed", "devel/mid: dependency changed")}),
			with(map[string]string{"devel/lib": "build: port changed (devel/lib/Makefile)", "devel/mid": "build: " + dc("devel/lib: port changed"), "devel/app": "build: " + dc("devel/lib: port changed")})},
		{"version bump", func(t *testing.T, tree, _ string, _ *spec.Profile, _ *Options) {
			writeFiles(t, tree, map[string]string{"devel/lib/Makefile": "PORTNAME=lib\nPORTVERSION=3.2\nOPTIONS_DEFINE=DOCS X11\nOPTIONS_DEFAULT=DOCS\n" +
				".include \"${PORTSDIR}/Mk/bsd.port.mk\"\n"})
		}, with(map[string]string{"devel/lib": "build: port changed (devel/lib/Makefile)", "devel/mid": "build: " + dc("devel/lib: 3.1 -> 3.2, port changed"), "devel/app": "build: " + dc("devel/lib: 3.1 -> 3.2, port changed", "devel/mid: dependency changed")}),
			with(map[string]string{"devel/lib": "build: port changed (devel/lib/Makefile)", "devel/mid": "build: " + dc("devel/lib: 3.1 -> 3.2, port changed"), "devel/app": "build: " + dc("devel/lib: 3.1 -> 3.2, port changed")})},
		{"middle port", func(t *testing.T, tree, _ string, _ *spec.Profile, _ *Options) {
			appendFile(t, filepath.Join(tree, "devel/mid/files/patch-x"), "patch\n")
		}, with(map[string]string{"devel/mid": "build: port changed (devel/mid/files/patch-x added)", "devel/app": "build: " + dc("devel/mid: port changed")}),
			with(map[string]string{"devel/mid": "build: port changed (devel/mid/files/patch-x added)"})},
		{"flavor of a dependency", func(t *testing.T, tree, _ string, _ *spec.Profile, _ *Options) {
			appendFile(t, filepath.Join(tree, "lang/py/distinfo"), "SHA256 (py.tgz) = 00\n")
		}, with(map[string]string{"lang/py@py2": "build: port changed (lang/py/distinfo added)", "lang/py@py3": "build: port changed (lang/py/distinfo added)", "devel/app": "build: " + dc("lang/py@py2: port changed", "lang/py@py3: port changed")}),
			with(map[string]string{"lang/py@py2": "build: port changed (lang/py/distinfo added)", "lang/py@py3": "build: port changed (lang/py/distinfo added)", "devel/app": "build: " + dc("lang/py@py2: port changed")})},
		{"profile option", func(_ *testing.T, _, _ string, prof *spec.Profile, _ *Options) {
			prof.Ports["devel/lib"] = spec.PortSettings{OptionsSet: []string{"X11"}}
		}, with(map[string]string{"devel/lib": "build: options changed (+X11)", "devel/mid": "build: " + dc("devel/lib: options changed"), "devel/app": "build: " + dc("devel/lib: options changed", "devel/mid: dependency changed")}),
			with(map[string]string{"devel/lib": "build: options changed (+X11)", "devel/mid": "build: " + dc("devel/lib: options changed"), "devel/app": "build: " + dc("devel/lib: options changed")})},
		{"options file", func(t *testing.T, _, base string, prof *spec.Profile, _ *Options) {
			writeFiles(t, prof.OptionsDir, map[string]string{"devel_lib/options": "OPTIONS_FILE_UNSET+=DOCS\n"})
		}, with(map[string]string{"devel/lib": "build: options changed (-DOCS, options file)", "devel/mid": "build: " + dc("devel/lib: options changed"), "devel/app": "build: " + dc("devel/lib: options changed", "devel/mid: dependency changed")}),
			with(map[string]string{"devel/lib": "build: options changed (-DOCS, options file)", "devel/mid": "build: " + dc("devel/lib: options changed"), "devel/app": "build: " + dc("devel/lib: options changed")})},
		{"make_env", func(_ *testing.T, _, _ string, prof *spec.Profile, _ *Options) {
			prof.Ports["devel/mid"] = spec.PortSettings{MakeEnv: map[string]string{"FOO": "1"}}
		}, with(map[string]string{"devel/mid": "build: make.conf changed (make_env FOO)", "devel/app": "build: " + dc("devel/mid: make.conf changed")}),
			with(map[string]string{"devel/mid": "build: make.conf changed (make_env FOO)"})},
		{"make.conf", func(_ *testing.T, _, _ string, prof *spec.Profile, _ *Options) {
			prof.MakeConf["CFLAGS"] = "-O3"
		}, everything("make.conf changed (CFLAGS)", true), everything("make.conf changed (CFLAGS)", false)},
		{"framework comment", func(t *testing.T, tree, _ string, _ *spec.Profile, _ *Options) {
			appendFile(t, filepath.Join(tree, "Mk/bsd.port.mk"), "# new framework\n")
		}, everything("framework changed (Mk/bsd.port.mk)", true), base},
		{"unread Mk file", func(t *testing.T, tree, _ string, _ *spec.Profile, _ *Options) {
			writeFiles(t, tree, map[string]string{"Mk/Uses/unused.mk": "UNUSED_VAR=1\n"})
		}, base, base},
		{"environment", func(_ *testing.T, _, _ string, prof *spec.Profile, _ *Options) {
			prof.Environment.Env["OSVERSION"] = "600500"
		}, everything("environment changed (OSVERSION)", true), everything("environment changed (OSVERSION)", false)},
		{"package missing", func(t *testing.T, _, base string, prof *spec.Profile, _ *Options) {
			os.Remove(filepath.Join(prof.PackagesDir, "All", "mid-2.0.pkg"))
		}, with(map[string]string{"devel/mid": "build: package missing"}), nil},
		{"package differs", func(t *testing.T, _, base string, prof *spec.Profile, _ *Options) {
			appendFile(t, filepath.Join(prof.PackagesDir, "All", "app-1.0.pkg"), "garbage")
		}, with(map[string]string{"devel/app": "build: package differs"}), nil},
		{"force", func(_ *testing.T, _, _ string, _ *spec.Profile, opt *Options) {
			opt.Force = []string{"devel/mid", "lang/py"} // lang/py: its default flavor, py3
		}, with(map[string]string{"devel/mid": "build: forced", "lang/py@py3": "build: forced"}), nil},
		{"force a flavor", func(_ *testing.T, _, _ string, _ *spec.Profile, opt *Options) {
			opt.Force = []string{"lang/py@py2"}
		}, with(map[string]string{"lang/py@py2": "build: forced"}), nil},
		{"force keeps a build's reason", func(t *testing.T, tree, _ string, _ *spec.Profile, opt *Options) {
			appendFile(t, filepath.Join(tree, "devel/mid/pkg-descr"), "edited\n")
			opt.Force = []string{"devel/mid", "devel/lib"}
		}, with(map[string]string{"devel/mid": "build: port changed (devel/mid/pkg-descr added)", "devel/lib": "build: forced",
			"devel/app": "build: " + dc("devel/mid: port changed")}),
			with(map[string]string{"devel/mid": "build: port changed (devel/mid/pkg-descr added)", "devel/lib": "build: forced"})},
		{"force all", func(_ *testing.T, _, _ string, _ *spec.Profile, opt *Options) {
			opt.ForceAll = true
		}, everything("forced", true), nil},
	}
	for _, c := range cases {
		for _, policy := range []string{spec.RebuildMakefiles, ""} {
			name := c.name + "/" + policy
			if policy == "" {
				name = c.name + "/recipe"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				tree := miniTree(t)
				base := t.TempDir()
				db := openDB(t, base)
				prof := testProfile(tree, base, "devel/app", "misc/user")
				prof.Rebuild = policy
				p, _ := mustCreate(t, Options{Profile: prof, DB: db})
				markBuilt(t, db, p)
				opt := Options{Profile: prof, DB: db}
				c.change(t, tree, base, prof, &opt)
				p2, _ := mustCreate(t, opt)
				want := c.want
				if policy == "" && c.recipe != nil {
					want = c.recipe
				}
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
	if s := p2.Node("devel/slave"); s.PkgName != "slave-1.1" || s.Action != ActionBuild || s.Reason != ReasonPortChanged+" (devel/master/)" {
		t.Fatalf("slave after master change: %s %s %s", s.PkgName, s.Action, s.Reason)
	}
	if n := p2.Node("devel/inc"); n.PkgName != "inc-6" || n.Reason != ReasonPortChanged+" (devel/common/Makefile.common)" {
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
	if got := actions(p)["misc/meta"]; got != "build: dependency changed (devel/app: port changed)" {
		t.Fatalf("meta after app change: %s", got)
	}
}

// A framework file read by two ports: a comment rebuilds nothing; a change
// of what it sets rebuilds exactly those two (and what needs them by
// library or run), naming the variable; under rebuild = "makefiles" the
// comment rebuilds both, naming the file.
func TestSharedMkFile(t *testing.T) {
	for _, policy := range []string{"", spec.RebuildMakefiles} {
		t.Run("policy="+policy, func(t *testing.T) {
			tree := miniTree(t)
			writeFiles(t, tree, map[string]string{
				"Mk/Uses/shared.mk":   "CFLAGS+=\t-DSHARED=1\n",
				"misc/one/Makefile":   "PORTNAME=one\nPORTVERSION=1\n.include \"${PORTSDIR}/Mk/Uses/shared.mk\"\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
				"misc/two/Makefile":   "PORTNAME=two\nPORTVERSION=1\n.include \"${PORTSDIR}/Mk/Uses/shared.mk\"\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
				"misc/user2/Makefile": "PORTNAME=user2\nPORTVERSION=1\nRUN_DEPENDS=one:misc/one\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
			})
			base := t.TempDir()
			db := openDB(t, base)
			prof := testProfile(tree, base, "misc/user2", "misc/two", "devel/lib")
			prof.Rebuild = policy
			p, _ := mustCreate(t, Options{Profile: prof, DB: db})
			markBuilt(t, db, p)

			appendFile(t, filepath.Join(tree, "Mk/Uses/shared.mk"), "# a comment\n")
			p, _ = mustCreate(t, Options{Profile: prof, DB: db})
			got := actions(p)
			for _, id := range []string{"misc/one", "misc/two", "misc/user2", "devel/lib"} {
				want := "skip: up to date"
				if policy == spec.RebuildMakefiles && (id == "misc/one" || id == "misc/two") {
					want = "build: framework changed (Mk/Uses/shared.mk)"
				}
				if policy == spec.RebuildMakefiles && id == "misc/user2" {
					want = "build: dependency changed (misc/one: framework changed)"
				}
				if got[id] != want {
					t.Errorf("after a comment: %s: %q, want %q", id, got[id], want)
				}
			}
			if policy == spec.RebuildMakefiles {
				return
			}
			writeFiles(t, tree, map[string]string{"Mk/Uses/shared.mk": "CFLAGS+=\t-DSHARED=2\n"})
			p, _ = mustCreate(t, Options{Profile: prof, DB: db})
			got = actions(p)
			for id, want := range map[string]string{
				"misc/one": "build: framework changed (CFLAGS, CXXFLAGS)", "misc/two": "build: framework changed (CFLAGS, CXXFLAGS)",
				"misc/user2": "build: dependency changed (misc/one: framework changed)", "devel/lib": "skip: up to date",
			} {
				if got[id] != want {
					t.Errorf("after a CFLAGS change: %s: %q, want %q", id, got[id], want)
				}
			}
		})
	}
}
