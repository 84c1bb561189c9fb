package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/internal/repotest"
	"github.com/go-dsynth/dsynth/internal/testtool"

	"github.com/go-dsynth/dsynth/record"
)

// catalogOf reads the published repository of dir's profile: the
// packagesite.yaml lines and the archive members.
func catalogOf(t *testing.T, dir string) (string, map[string][]byte) {
	t.Helper()
	m := repotest.Members(t, filepath.Join(dir, "base", "packages", ".latest", "packagesite.pkg"))
	return string(m["packagesite.yaml"]), m
}

// TestE2ERepositoryAndPkgclean: an apply publishes a signed repository
// (verified with openssl); after a version bump and a removed port the
// old packages are listed in 06_obsolete_packages.log and by a dry-run
// pkgclean, removed by pkgclean -yes, and the rebuilt catalog no longer
// lists them; `dsynth repo` republishes on demand.
func TestE2ERepositoryAndPkgclean(t *testing.T) {
	dir := e2eSetup(t, "misc/versioned", "misc/minicat")
	testtool.Need(t, "openssl")
	if out, err := exec.Command("openssl", "genrsa", "-out", filepath.Join(dir, "repo.key"), "2048").CombinedOutput(); err != nil {
		t.Fatalf("openssl genrsa: %v\n%s", err, out)
	}
	if out, err := exec.Command("openssl", "rsa", "-in", filepath.Join(dir, "repo.key"), "-pubout", "-out", filepath.Join(dir, "repo.pub")).CombinedOutput(); err != nil {
		t.Fatalf("openssl rsa -pubout: %v\n%s", err, out)
	}
	prof := filepath.Join(dir, "p.hcl")
	editFile(t, prof, func(s string) string {
		return strings.TrimSuffix(strings.TrimSpace(s), "}") + "  repository {\n    signing_key = \"repo.key\"\n  }\n}\n"
	})

	out, code := dsynth(t, dir, "apply", "-auto-approve", "p.hcl")
	mustCode(t, out, code, 0, "apply")
	pub, _ := os.ReadFile(filepath.Join(dir, "repo.pub"))
	fp := sha256.Sum256(pub)
	if !strings.Contains(out, "packages published at "+filepath.Join(dir, "base", "packages", ".latest")) || !strings.Contains(out, "fingerprint: "+hex.EncodeToString(fp[:])) {
		t.Errorf("apply does not say what it published, with the key's fingerprint:\n%s", out)
	}
	site, members := catalogOf(t, dir)
	for _, want := range []string{`"origin":"misc/versioned"`, `"origin":"misc/minicat"`, `"origin":"ports-mgmt/pkg"`, `"path":"All/x-versioned-3.1_2,1.pkg"`} {
		if !strings.Contains(site, want) {
			t.Errorf("the catalog lacks %s:\n%s", want, site)
		}
	}
	repotest.VerifySignature(t, filepath.Join(dir, "repo.pub"), []byte(site), members["signature"])

	out, code = dsynth(t, dir, "show", "last")
	mustCode(t, out, code, 0, "show last")
	if !strings.Contains(out, "Repository ok: ") || !strings.Contains(out, "signed (fingerprint sha256 "+hex.EncodeToString(fp[:])+")") {
		t.Errorf("show does not say which repository the run published:\n%s", out)
	}

	// A new version of misc/versioned; misc/minicat leaves the tree.
	editFile(t, filepath.Join(dir, "ports", "misc", "versioned", "Makefile"), func(s string) string {
		return strings.Replace(s, "PORTVERSION=\t3.1", "PORTVERSION=\t3.2", 1)
	})
	editFile(t, prof, func(s string) string { return strings.Replace(s, `, "misc/minicat"`, "", 1) })
	out, code = dsynth(t, dir, "apply", "-auto-approve", "p.hcl")
	mustCode(t, out, code, 0, "apply of the new version")
	obs, _ := os.ReadFile(filepath.Join(dir, "base", "logs", "06_obsolete_packages.log"))
	if !strings.Contains(string(obs), "x-versioned-3.1_2,1.pkg (old package of misc/versioned, which now makes x-versioned-3.2_2,1.pkg)") {
		t.Errorf("06_obsolete_packages.log:\n%s", obs)
	}
	if err := os.RemoveAll(filepath.Join(dir, "ports", "misc", "minicat")); err != nil {
		t.Fatal(err)
	}
	all := filepath.Join(dir, "base", "packages", "All")
	out, code = dsynth(t, dir, "pkgclean", "p.hcl")
	mustCode(t, out, code, 0, "pkgclean (dry run)")
	for _, want := range []string{"x-versioned-3.1_2,1.pkg", "old package of misc/versioned", "minicat-", "misc/minicat was removed from the ports tree", "2 obsolete packages", "run with -yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("pkgclean dry run does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "libmini") {
		t.Errorf("pkgclean would remove libmini, still in the tree:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(all, "x-versioned-3.1_2,1.pkg")); err != nil {
		t.Fatalf("the dry run removed a package: %v", err)
	}
	before, _ := os.Readlink(filepath.Join(dir, "base", "packages", ".latest"))

	out, code = dsynth(t, dir, "pkgclean", "-yes", "p.hcl")
	mustCode(t, out, code, 0, "pkgclean -yes")
	if !strings.Contains(out, "Removed 2 obsolete packages") || !strings.Contains(out, "Repository:") {
		t.Errorf("pkgclean -yes:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(all, "x-versioned-3.1_2,1.pkg")); err == nil {
		t.Error("the old package is still there")
	}
	if after, _ := os.Readlink(filepath.Join(dir, "base", "packages", ".latest")); after == before {
		t.Error("the repository was not rebuilt after the clean")
	}
	site, _ = catalogOf(t, dir)
	if strings.Contains(site, "3.1_2,1") || strings.Contains(site, "misc/minicat") || !strings.Contains(site, "x-versioned-3.2_2,1.pkg") {
		t.Errorf("the rebuilt catalog:\n%s", site)
	}
	out, code = dsynth(t, dir, "pkgclean", "p.hcl")
	mustCode(t, out, code, 0, "pkgclean again")
	if !strings.Contains(out, "No obsolete packages") {
		t.Errorf("pkgclean after the clean:\n%s", out)
	}

	out, code = dsynth(t, dir, "repo", "p.hcl")
	mustCode(t, out, code, 0, "repo")
	if !strings.Contains(out, "packages published at") || !strings.Contains(out, "public key: ") {
		t.Errorf("repo:\n%s", out)
	}

	out, code = dsynth(t, dir, "history", "operations")
	mustCode(t, out, code, 0, "history operations")
	if strings.Count(out, " repository ") != 4 || strings.Count(out, " pkgclean ") != 1 {
		t.Errorf("history operations:\n%s", out)
	}
	db := e2eRecords(t, dir)
	defer db.Close()
	ops, err := db.Operations("")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, op := range ops {
		kinds[op.Kind]++
		if op.Kind == record.OpPkgClean && (op.Count != 2 || op.Bytes == 0 || len(op.Items) != 2) {
			t.Errorf("recorded clean %+v", op)
		}
	}
	if kinds[record.OpRepository] != 4 || kinds[record.OpPkgClean] != 1 {
		t.Errorf("recorded operations %v, want 4 repository builds and 1 clean", kinds)
	}
	noLeftovers(t, filepath.Join(dir, "base"))

	// A key pkg cannot use: the apply's packages stand, the repository
	// is not published (exit 1) and the published one is untouched.
	os.WriteFile(filepath.Join(dir, "repo.key"), []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), 0o600)
	before, _ = os.Readlink(filepath.Join(dir, "base", "packages", ".latest"))
	out, code = dsynth(t, dir, "repo", "p.hcl")
	mustCode(t, out, code, 1, "repo with a bad key")
	if !strings.Contains(out, "Repository NOT published") || !strings.Contains(out, "repo.key: not an RSA private key") {
		t.Errorf("repo with a bad key:\n%s", out)
	}
	if after, _ := os.Readlink(filepath.Join(dir, "base", "packages", ".latest")); after != before {
		t.Errorf(".latest moved from %s to %s", before, after)
	}
}

func editFile(t *testing.T, path string, fn func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(fn(string(b))), 0o644); err != nil {
		t.Fatal(err)
	}
}
