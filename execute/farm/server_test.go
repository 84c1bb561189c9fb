package farm

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "farm"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert, key = filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// TestPackageServer: over TLS, with the farm token, a host downloads an
// offered package by SHA-256 and uploads one whose SHA-256 it states;
// without the token, for an unknown SHA-256, or with a wrong one, the
// server refuses and stores nothing.
func TestPackageServer(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	pk := filepath.Join(dir, "packages")
	os.MkdirAll(filepath.Join(pk, "All"), 0o755)
	lib := filepath.Join(pk, "All", "lib-1.0.pkg")
	os.WriteFile(lib, []byte("a package"), 0o644)
	sum := sha256.Sum256([]byte("a package"))
	libSum := hex.EncodeToString(sum[:])

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := &Server{PackagesDir: pk, Token: strings.Repeat("t", 64)}
	stop, err := Listen(srv, addr, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	srv.Offer(libSum, lib)
	tc, err := ClientTLS(cert, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	base := "https://" + addr
	do := func(method, path, token, sha string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if sha != "" {
			req.Header.Set("X-Dsynth-Sha256", sha)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, b := do("GET", "/farm/v1/pkg/"+libSum, srv.Token, "", nil); code != 200 || string(b) != "a package" {
		t.Errorf("download: %d %q", code, b)
	}
	if code, _ := do("GET", "/farm/v1/pkg/"+libSum, "wrong", "", nil); code != 401 {
		t.Errorf("download without the token: %d", code)
	}
	if code, _ := do("GET", "/farm/v1/pkg/"+strings.Repeat("0", 64), srv.Token, "", nil); code != 404 {
		t.Errorf("download of a package not offered: %d", code)
	}
	key1 := KeyOf("wf-1")
	built := []byte("the built package")
	bs := sha256.Sum256(built)
	if code, b := do("PUT", "/farm/v1/upload/"+key1, srv.Token, strings.Repeat("1", 64), built); code != 400 || !strings.Contains(string(b), "SHA-256") {
		t.Errorf("upload with a wrong SHA-256: %d %s", code, b)
	}
	if _, err := os.Stat(srv.Staged(key1)); err == nil {
		t.Error("a refused upload was kept")
	}
	if code, _ := do("PUT", "/farm/v1/upload/"+key1, "", hex.EncodeToString(bs[:]), built); code != 401 {
		t.Errorf("upload without the token: %d", code)
	}
	if code, _ := do("PUT", "/farm/v1/upload/../../etc", srv.Token, hex.EncodeToString(bs[:]), built); code == 204 {
		t.Error("upload under a bad key accepted")
	}
	if code, b := do("PUT", "/farm/v1/upload/"+key1, srv.Token, hex.EncodeToString(bs[:]), built); code != 204 {
		t.Fatalf("upload: %d %s", code, b)
	}
	if got, _ := os.ReadFile(srv.Staged(key1)); !bytes.Equal(got, built) {
		t.Errorf("staged upload %q", got)
	}
	left, _ := filepath.Glob(filepath.Join(pk, StagingDir, "*.part"))
	if len(left) != 0 {
		t.Errorf("partial uploads left: %v", left)
	}
	// A plain HTTP client cannot talk to it.
	if resp, err := http.Get("http://" + addr + "/farm/v1/pkg/" + libSum); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("served a package over plain HTTP")
		}
	}
	if _, err := ClientTLS(filepath.Join(dir, "missing.crt"), "", "", ""); err == nil {
		t.Error("a missing CA file is no error")
	}
}
