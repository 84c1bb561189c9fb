package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

// miniMk is a few lines of bsd.port.mk semantics, enough for unit tests
// that must not depend on the shared testdata trees.
const miniMk = `PKGVERSION?=	${PORTVERSION}
.if defined(FLAVORS) && !empty(FLAVORS) && (!defined(FLAVOR) || empty(FLAVOR))
FLAVOR=	${FLAVORS:[1]}
.endif
.if defined(FLAVOR) && !empty(FLAVOR)
PKGNAMESUFFIX=	-${FLAVOR}
.endif
PKGNAME=	${PORTNAME}${PKGNAMESUFFIX}-${PKGVERSION}
PKGFILE=	${PACKAGES}/All/${PKGNAME}${PKG_SUFX}
OPTIONS_NAME=	${.CURDIR:H:T}_${.CURDIR:T}
.if exists(${PORT_DBDIR}/${OPTIONS_NAME}/options)
.include "${PORT_DBDIR}/${OPTIONS_NAME}/options"
.endif
_OPT=	${OPTIONS_DEFAULT} ${OPTIONS_FILE_SET} ${${OPTIONS_NAME}_SET}
.for o in ${OPTIONS_FILE_UNSET} ${${OPTIONS_NAME}_UNSET}
_OPT:=	${_OPT:N${o}}
.endfor
SELECTED_OPTIONS=	${_OPT:O:u}
.for o in ${OPTIONS_DEFINE}
.if empty(SELECTED_OPTIONS:M${o})
DESELECTED_OPTIONS+=	${o}
.endif
.endfor
.if defined(BROKEN)
IGNORE=	is marked as broken: ${BROKEN}
.endif
all:
`

// miniTree writes a small ports tree and returns its path.
//
//	devel/app   BUILD b, RUN lang/py@py2, ${PORTSDIR} form, /nonexistent
//	devel/lib   leaf with options
//	devel/mid   LIB devel/lib
//	lang/py     flavors py3 py2
//	misc/ign    IGNORE; misc/user depends on it
//	ports-mgmt/pkg
func miniTree(t testing.TB) string {
	dir := t.TempDir()
	files := map[string]string{
		"Mk/bsd.port.mk": miniMk,
		"devel/app/Makefile": "PORTNAME=app\nPORTVERSION=1.0\nBUILD_DEPENDS=mid:devel/mid py3:${PORTSDIR}/lang/py\n" +
			"RUN_DEPENDS=/nonexistent:devel/lib:extract py2:lang/py@py2\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
		"devel/app/pkg-descr": "the app\n",
		"devel/mid/Makefile":  "PORTNAME=mid\nPORTVERSION=2.0\nLIB_DEPENDS=liblib.so:devel/lib\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
		"devel/lib/Makefile": "PORTNAME=lib\nPORTVERSION=3.1\nOPTIONS_DEFINE=DOCS X11\nOPTIONS_DEFAULT=DOCS\n" +
			".include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
		"devel/lib/files/patch-a": "--- a\n+++ a\n",
		"lang/py/Makefile":        "PORTNAME=py\nPORTVERSION=3.9\nFLAVORS=py3 py2\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
		"misc/ign/Makefile":       "PORTNAME=ign\nPORTVERSION=1\nBROKEN=does not build\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
		"misc/user/Makefile":      "PORTNAME=user\nPORTVERSION=1\nRUN_DEPENDS=ign:misc/ign\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
		"ports-mgmt/pkg/Makefile": "PORTNAME=pkg\nPORTVERSION=1.20\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n",
	}
	writeFiles(t, dir, files)
	return dir
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// testProfile returns a profile for the tree at portsDir with its other
// directories under base.
func testProfile(portsDir, base string, targets ...string) *spec.Profile {
	return &spec.Profile{
		Name:          "test",
		PortsDir:      portsDir,
		BuildBase:     base,
		PackagesDir:   filepath.Join(base, "packages"),
		DistfilesDir:  filepath.Join(base, "distfiles"),
		OptionsDir:    filepath.Join(base, "options"),
		LogsDir:       filepath.Join(base, "logs"),
		Records:       filepath.Join(base, "records.db"),
		SystemDir:     "/",
		PackageSuffix: ".pkg",
		MakeCommand:   "bmake",
		MakeConf:      map[string]string{"CFLAGS": "-O2"},
		Targets:       targets,
		Ports:         map[string]spec.PortSettings{},
		Workers:       spec.Workers{Count: 2, MaxJobs: 1},
		Environment:   spec.Environment{Isolation: "chroot", Network: "fetch", Env: map[string]string{}, Mounts: []spec.Mount{}},
	}
}

func openDB(t testing.TB, dir string) *record.DB {
	t.Helper()
	db, err := record.Open(filepath.Join(dir, "records.db"), record.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustCreate(t testing.TB, opt Options) (*Plan, *Stats) {
	t.Helper()
	if opt.Jobs == 0 {
		opt.Jobs = 4
	}
	p, st, err := Create(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

// markBuilt does what apply does after building every build node of p: it
// writes the CRC index entry and, except for meta ports, a package file and
// a package record.
func markBuilt(t testing.TB, db *record.DB, p *Plan) {
	t.Helper()
	all := filepath.Join(p.Settings.PackagesDir, "All")
	if err := os.MkdirAll(all, 0o755); err != nil {
		t.Fatal(err)
	}
	err := db.Write(func(tx *record.Tx) error {
		for i := range p.Ports {
			n := &p.Ports[i]
			if n.Action != ActionBuild {
				continue
			}
			if err := tx.PutCRC(n.ID, record.CRCEntry{CRC32: n.CRC32, InputKey: n.InputKey}); err != nil {
				return err
			}
			if n.Meta {
				continue // like apply: no package, only the CRC index
			}
			rec := record.Package{NodeID: n.ID, InputKey: n.InputKey, CRC32: n.CRC32, Version: n.Version, PkgFile: n.PkgFile}
			if n.PkgFile != "" {
				content := []byte("package " + n.ID + " " + n.InputKey)
				if err := os.WriteFile(filepath.Join(all, n.PkgFile), content, 0o644); err != nil {
					return err
				}
				s := sha256.Sum256(content)
				rec.SHA256 = hex.EncodeToString(s[:])
			}
			if err := tx.PutPackage(rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// actions maps node ID to "action: reason".
func actions(p *Plan) map[string]string {
	m := map[string]string{}
	for i := range p.Ports {
		m[p.Ports[i].ID] = string(p.Ports[i].Action) + ": " + p.Ports[i].Reason
	}
	return m
}

// ptr is &v.
func ptr[T any](v T) *T { return &v }
