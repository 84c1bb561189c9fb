//go:build linux

package publish_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-dsynth/dsynth/internal/repotest"
	"github.com/go-dsynth/dsynth/internal/testtool"

	"golang.org/x/sys/unix"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/execute/publish"
	"github.com/go-dsynth/dsynth/internal/buildtest"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

func TestMain(m *testing.M) {
	isolate.MaybeRunHelper()
	code := m.Run()
	for _, d := range fixDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// fixture is a profile whose packages (ports-mgmt/pkg and two ports)
// were built for real, once for every test of the file.
type fixture struct {
	p    *plan.Plan
	opts publish.Options
	keys string // a folder with repo.key, repo.pub and sign.sh
}

var (
	fixOnce  sync.Once
	fix      *fixture
	fixErr   string
	fixDirs  []string // removed by TestMain
	applyRun string
)

func setup(t *testing.T) *fixture {
	t.Helper()
	buildtest.Need(t)
	testtool.Need(t, "openssl")
	fixOnce.Do(func() {
		e := buildtest.New(&onceT{T: t}, "good", []string{"misc/minicat", "misc/versioned"}, "")
		p, sum := e.Apply()
		applyRun = sum.RunID
		if sum.Repository == nil || sum.RepositoryErr != nil {
			fixErr = fmt.Sprintf("the apply did not publish: %+v %v", sum.Repository, sum.RepositoryErr)
			return
		}
		keys := filepath.Join(e.Base, "keys")
		os.MkdirAll(keys, 0o755)
		if _, _, err := repotest.WriteKey(keys); err != nil {
			fixErr = err.Error()
			return
		}
		// poudriere's signing_command protocol; the folder is mounted at
		// /signer in the slot.
		os.WriteFile(filepath.Join(keys, "sign.sh"), []byte(`#!/bin/sh
read sum
[ -n "$SIGN_FAIL" ] && exit 1
echo SIGNATURE
printf %s "$sum" | openssl dgst -sha256 -sign /signer/repo.key -binary
echo
echo CERT
cat /signer/repo.pub
echo END
`), 0o755)
		pkgFile := ""
		if n := p.Node(p.PkgNode); n != nil {
			pkgFile = n.PkgFile
		}
		fix = &fixture{p: p, keys: keys, opts: execute.RepositoryOptions(&p.Settings, pkgFile, "")}
	})
	if fix == nil {
		t.Fatalf("fixture: %s", fixErr)
	}
	return fix
}

// onceT reports the fixture's failures without failing later tests
// through a finished T.
type onceT struct{ *testing.T }

func (o *onceT) TempDir() string {
	d, err := os.MkdirTemp("", "publish-test-")
	if err != nil {
		o.T.Fatal(err)
	}
	fixDirs = append(fixDirs, d)
	return d
}

// catalog reads the published repository: the package manifests of
// packagesite.yaml keyed by file name, and the archive's members.
func catalog(t *testing.T, dir string) (map[string]map[string]any, map[string][]byte) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "meta.conf")); err != nil {
		t.Fatalf("no meta.conf: %v", err)
	}
	members := repotest.Members(t, filepath.Join(dir, "packagesite.pkg"))
	pkgs := map[string]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(members["packagesite.yaml"]))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("packagesite.yaml: %q: %v", sc.Text(), err)
		}
		path, _ := m["path"].(string)
		b, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			t.Fatalf("catalog path %s: %v", path, err)
		}
		sum := sha256.Sum256(b)
		if m["sum"] != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: sum %v, file has %x", path, m["sum"], sum)
		}
		pkgs[filepath.Base(path)] = m
	}
	return pkgs, members
}

func latest(t *testing.T, f *fixture) string {
	t.Helper()
	target, err := os.Readlink(filepath.Join(f.opts.PackagesDir, publish.Latest))
	if err != nil {
		t.Fatalf("no published repository: %v", err)
	}
	return target
}

func packages(t *testing.T, f *fixture) []string {
	ents, _ := os.ReadDir(filepath.Join(f.opts.PackagesDir, "All"))
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestPublishUnsignedThenSigned(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	o := f.opts
	o.RunID = "run-1"
	op, err := publish.Publish(ctx, o)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	first := latest(t, f)
	pkgs, members := catalog(t, filepath.Join(f.opts.PackagesDir, publish.Latest))
	want := packages(t, f)
	if len(pkgs) != len(want) || op.Count != len(want) || len(want) < 3 {
		t.Errorf("catalog lists %d packages, op says %d, All has %v", len(pkgs), op.Count, want)
	}
	for _, w := range want {
		if pkgs[w] == nil {
			t.Errorf("%s is not in the catalog", w)
		}
	}
	if len(members) != 1 || op.Fingerprint != "" || op.Status != record.OpOK || op.Path != filepath.Join(f.opts.PackagesDir, first) {
		t.Errorf("unsigned: members %d, op %+v", len(members), op)
	}

	// Signed with rsa:KEY; the previous repository stays until the next switch.
	o.SigningKey = filepath.Join(f.keys, "repo.key")
	op, err = publish.Publish(ctx, o)
	if err != nil {
		t.Fatalf("signed publish: %v", err)
	}
	second := latest(t, f)
	if second == first {
		t.Fatal(".latest did not switch")
	}
	if _, err := os.Stat(filepath.Join(f.opts.PackagesDir, first)); err != nil {
		t.Errorf("the previous repository %s is gone: %v", first, err)
	}
	_, members = catalog(t, filepath.Join(f.opts.PackagesDir, publish.Latest))
	repotest.VerifySignature(t, filepath.Join(f.keys, "repo.pub"), members["packagesite.yaml"], members["signature"])
	pub, _ := os.ReadFile(filepath.Join(f.keys, "repo.pub"))
	fp := sha256.Sum256(pub)
	if op.Fingerprint != hex.EncodeToString(fp[:]) {
		t.Errorf("fingerprint %q, want sha256 of the public key %x", op.Fingerprint, fp)
	}
	if got, _ := os.ReadFile(filepath.Join(f.opts.LogsDir, publish.PubKeyFile)); !bytes.Equal(got, pub) {
		t.Errorf("%s = %q, want the public key", publish.PubKeyFile, got)
	}

	// signing_command (in the slot, the signer mounted); the first
	// repository is pruned, the second kept.
	o.SigningKey = ""
	o.SigningCommand = "/signer/sign.sh"
	o.Layout.Mounts = append(o.Layout.Mounts, isolate.Mount{Source: f.keys, Target: "/signer", ReadOnly: true})
	op, err = publish.Publish(ctx, o)
	if err != nil {
		t.Fatalf("signing_command publish: %v", err)
	}
	_, members = catalog(t, filepath.Join(f.opts.PackagesDir, publish.Latest))
	repotest.VerifySignature(t, filepath.Join(f.keys, "repo.pub"), members["packagesite.yaml"], members["packagesite.yaml.sig"])
	if op.Fingerprint != hex.EncodeToString(fp[:]) {
		t.Errorf("signing_command fingerprint %q, want %x", op.Fingerprint, fp)
	}
	if _, err := os.Stat(filepath.Join(f.opts.PackagesDir, first)); err == nil {
		t.Errorf("the repository before the previous one (%s) was kept", first)
	}
	if _, err := os.Stat(filepath.Join(f.opts.PackagesDir, second)); err != nil {
		t.Errorf("the previous repository %s is gone: %v", second, err)
	}

	db, err := record.Open(f.opts.Records, record.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ops, err := db.Operations(record.OpRepository)
	if err != nil || len(ops) < 3 {
		t.Fatalf("recorded operations: %v %v", ops, err)
	}
	byRun := map[string]*record.Operation{}
	for _, op := range ops {
		byRun[op.RunID] = op
	}
	for _, id := range []string{applyRun, "run-1"} {
		if op := byRun[id]; op == nil || op.Count != len(want) || op.Bytes == 0 || op.Status != record.OpOK {
			t.Errorf("operation following run %s: %+v", id, op)
		}
	}
}

// TestPublishFailuresKeepPublished: a bad key, a failing signer, an
// interrupted step and a read-only packages folder each fail with a clear
// error, record a failed operation and leave .latest as it was.
func TestPublishFailuresKeepPublished(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := os.Lstat(filepath.Join(f.opts.PackagesDir, publish.Latest)); err != nil {
		if _, err := publish.Publish(ctx, f.opts); err != nil {
			t.Fatal(err)
		}
	}
	before := latest(t, f)
	badKey := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(badKey, []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), 0o600)
	notPEM := filepath.Join(t.TempDir(), "notpem.key")
	os.WriteFile(notPEM, []byte("hello\n"), 0o600)

	cases := []struct {
		name string
		edit func(o *publish.Options) context.Context
		want string
	}{
		{"missing key", func(o *publish.Options) context.Context { o.SigningKey = "/nonexistent/repo.key"; return ctx }, "signing_key: open /nonexistent/repo.key"},
		{"not PEM", func(o *publish.Options) context.Context { o.SigningKey = notPEM; return ctx }, "not a PEM file"},
		{"not RSA", func(o *publish.Options) context.Context { o.SigningKey = badKey; return ctx }, "not an RSA private key"},
		{"no pkg", func(o *publish.Options) context.Context { o.PkgFile = "pkg-0.pkg"; return ctx }, "build ports-mgmt/pkg first"},
		{"signer fails", func(o *publish.Options) context.Context {
			o.SigningCommand = "SIGN_FAIL=1 /signer/sign.sh"
			o.Layout.Mounts = append(o.Layout.Mounts, isolate.Mount{Source: f.keys, Target: "/signer", ReadOnly: true})
			return ctx
		}, "pkg repo: exit status"},
		{"interrupted", func(o *publish.Options) context.Context {
			// The signer blocks; the step is cancelled once pkg repo has
			// started (seen in its log), so the slot's processes are killed.
			c, cancel := context.WithCancel(ctx)
			t.Cleanup(cancel)
			o.SigningCommand = "echo signer-started >&2; sleep 600"
			o.Log = cancelOn{"signer-started", cancel}
			return c
		}, "interrupted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := f.opts
			c := tc.edit(&o)
			op, err := publish.Publish(c, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if op == nil || op.Status != record.OpFailed {
				t.Errorf("operation %+v, want failed", op)
			}
			if got := latest(t, f); got != before {
				t.Errorf(".latest moved from %s to %s", before, got)
			}
			if _, err := os.Stat(filepath.Join(f.opts.PackagesDir, ".repo-new")); err == nil {
				t.Error("the half-built repository was left behind")
			}
		})
	}

	t.Run("read-only packages folder", func(t *testing.T) {
		dir := f.opts.PackagesDir
		if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
			t.Skipf("bind mount: %v", err)
		}
		defer unix.Unmount(dir, unix.MNT_DETACH)
		if err := unix.Mount("", dir, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			t.Fatalf("remount read-only: %v", err)
		}
		_, err := publish.Publish(ctx, f.opts)
		if err == nil || !strings.Contains(err.Error(), "read-only file system") || !strings.Contains(err.Error(), dir) {
			t.Fatalf("error %v, want one naming %s on a read-only file system", err, dir)
		}
		if got := latest(t, f); got != before {
			t.Errorf(".latest moved from %s to %s", before, got)
		}
	})
}

// cancelOn cancels when what it is written contains s.
type cancelOn struct {
	s      string
	cancel func()
}

func (c cancelOn) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte(c.s)) {
		c.cancel()
	}
	return len(b), nil
}
