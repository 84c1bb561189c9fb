package portgen

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/internal/repotest"
	"github.com/go-dsynth/dsynth/internal/testtool"
)

// repoManifest is the part of a packagesite.yaml line the tests check.
type repoManifest struct {
	Name, Origin, Version, Path, Sum string
	PkgSize                          int64 `json:"pkgsize"`
}

// checkRepo runs `pkg-static repo` over pkgdir three ways (unsigned,
// rsa:KEY, signing_command) and checks the catalog against files (the
// package files under pkgdir/All).
func checkRepo(t *testing.T, run func(string, ...string) string, pkgStatic, pkgdir string, files []string) {
	testtool.Need(t, "openssl")
	keys := t.TempDir()
	priv, pub, err := repotest.WriteKey(keys)
	if err != nil {
		t.Fatal(err)
	}
	signer := filepath.Join(keys, "sign.sh")
	os.WriteFile(signer, []byte("#!/bin/sh\nread sum\necho SIGNATURE\nprintf %s \"$sum\" | openssl dgst -sha256 -sign "+priv+
		" -binary\necho\necho CERT\ncat "+pub+"\necho END\n"), 0o755)

	for _, tc := range []struct{ name, sign string }{{"unsigned", ""}, {"rsa", "rsa:" + priv}, {"command", "signing_command: " + signer}} {
		out := filepath.Join(t.TempDir(), "repo")
		args := []string{pkgStatic, "repo", "-o", out, pkgdir}
		if tc.sign != "" {
			args = append(args, strings.Fields(tc.sign)...)
		}
		msg := run("/bin/sh", args...)
		if !strings.Contains(msg, "done (") {
			t.Errorf("%s: repo said %q", tc.name, msg)
		}
		meta, err := os.ReadFile(filepath.Join(out, "meta.conf"))
		if err != nil || !strings.Contains(string(meta), `manifests = "packagesite.yaml"`) {
			t.Fatalf("%s: meta.conf: %v %q", tc.name, err, meta)
		}
		cat := repotest.Members(t, filepath.Join(out, "packagesite.pkg"))
		site, ok := cat["packagesite.yaml"]
		if !ok {
			t.Fatalf("%s: packagesite.pkg has no packagesite.yaml: %v", tc.name, cat)
		}
		seen := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(site))
		for sc.Scan() {
			var m repoManifest
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s: packagesite.yaml line %q: %v", tc.name, sc.Text(), err)
			}
			b, err := os.ReadFile(filepath.Join(pkgdir, m.Path))
			if err != nil {
				t.Fatalf("%s: manifest path %q: %v", tc.name, m.Path, err)
			}
			h := sha256.Sum256(b)
			if m.Sum != hex.EncodeToString(h[:]) || m.PkgSize != int64(len(b)) || m.Name == "" || m.Version == "" || m.Origin == "" {
				t.Errorf("%s: manifest %+v does not match %s (%d bytes)", tc.name, m, m.Path, len(b))
			}
			seen[filepath.Base(m.Path)] = true
		}
		for _, f := range files {
			if !seen[f] {
				t.Errorf("%s: %s is not in the catalog", tc.name, f)
			}
		}
		if len(seen) != len(files) {
			t.Errorf("%s: catalog has %d packages, want %d", tc.name, len(seen), len(files))
		}
		switch tc.name {
		case "unsigned":
			if len(cat) != 1 {
				t.Errorf("unsigned catalog has members %v", cat)
			}
		case "rsa":
			repotest.VerifySignature(t, pub, site, cat["signature"])
		case "command":
			repotest.VerifySignature(t, pub, site, cat["packagesite.yaml.sig"])
			want, _ := os.ReadFile(pub)
			if got := cat["packagesite.yaml.pub"]; !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("packagesite.yaml.pub = %q, want %q", got, want)
			}
		}
	}
	// A key pkg cannot use is a clear error, and no catalog is written.
	bad := filepath.Join(keys, "bad.key")
	os.WriteFile(bad, []byte("not a key\n"), 0o600)
	out := filepath.Join(t.TempDir(), "repo")
	cmd := exec.Command("/bin/sh", pkgStatic, "repo", "-o", out, pkgdir, "rsa:"+bad)
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "signing with "+bad+" failed") {
		t.Errorf("repo with a bad key: %v\n%s", err, msg)
	}
	if _, err := os.Stat(filepath.Join(out, "packagesite.pkg")); err == nil {
		t.Error("repo with a bad key wrote a catalog")
	}
}
