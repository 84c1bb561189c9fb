// Package repotest reads and checks pkg repository catalogs for tests:
// the members of packagesite.pkg, an RSA key pair to sign with, and the
// signature of a catalog checked by openssl, as a pkg client would.
package repotest

import (
	"archive/tar"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Members returns the members of a catalog archive (packagesite.pkg).
func Members(t testing.TB, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("no catalog: %v", err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}

// WriteKey writes a new RSA private key (PEM) and its public key into
// dir as repo.key and repo.pub, and returns their paths.
func WriteKey(dir string) (priv, pub string, err error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	pb, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return "", "", err
	}
	priv, pub = filepath.Join(dir, "repo.key"), filepath.Join(dir, "repo.pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pb}), 0o644); err != nil {
		return "", "", err
	}
	return priv, pub, nil
}

// VerifySignature checks with openssl that sig is the RSA-SHA256
// signature, by the key whose public key is the file pub, of the hex
// SHA-256 of the catalog site (packagesite.yaml), as pkg signs it.
func VerifySignature(t testing.TB, pub string, site, sig []byte) {
	t.Helper()
	sum := sha256.Sum256(site)
	dir := t.TempDir()
	m, s := filepath.Join(dir, "digest"), filepath.Join(dir, "sig")
	if err := os.WriteFile(m, []byte(hex.EncodeToString(sum[:])), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s, sig, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", pub, "-signature", s, m).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("openssl does not verify the catalog signature: %v\n%s", err, out)
	}
}
