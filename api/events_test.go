package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/spec"
)

// TestHubDropsSlowClients checks that publishing never waits for a
// client: one that does not read is dropped once its buffer is full,
// while a reading client gets every event in order.
func TestHubDropsSlowClients(t *testing.T) {
	h := newHub()
	slow := h.subscribe()
	fast := h.subscribe()
	got := make(chan int64, 10*subBuffer)
	go func() {
		for {
			select {
			case e := <-fast.ch:
				got <- e.Seq
			case <-fast.gone:
				return
			}
		}
	}()
	start := time.Now()
	n := 3 * subBuffer
	for i := 0; i < n; i++ {
		h.publish(Event{Type: EvBuildProgress})
		if i%subBuffer == 0 {
			time.Sleep(20 * time.Millisecond) // let the fast client keep up
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("publishing %d events took %s", n, d)
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("the slow client was not dropped")
	}
	deadline := time.After(5 * time.Second)
	for want := int64(1); want <= int64(n); want++ {
		select {
		case s := <-got:
			if s != want {
				t.Fatalf("fast client got event %d, want %d", s, want)
			}
		case <-deadline:
			t.Fatalf("fast client stopped at %d of %d", want-1, n)
		}
	}
	// Log lines go only to subscribers of their run.
	fast.subscribeLogs("run-a", true)
	h.publish(Event{Type: EvLogLine, RunID: "run-b"})
	h.publish(Event{Type: EvLogLine, RunID: "run-a"})
	select {
	case s := <-got:
		if s != int64(n+2) {
			t.Errorf("log line event %d delivered, want only %d", s, n+2)
		}
	case <-time.After(2 * time.Second):
		t.Error("subscribed log line not delivered")
	}
	h.close()
	select {
	case <-fast.gone:
	case <-time.After(time.Second):
		t.Error("close did not end the subscribers")
	}
}

// TestTLS serves HTTPS with -tls-cert/-tls-key.
func TestTLS(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	dir := t.TempDir()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(priv)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)

	l, diags := spec.Load(ts.prof.File, spec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	srv, err := New(Config{Profiles: []*spec.Loaded{l}, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serveOn(t, srv, certFile, keyFile)
	defer stop()
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, der))
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("GET", "https://"+addr+"/api/v1/status", nil)
	req.Header.Set("X-API-Key", ts.keys["read"])
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("https: %d tls %v", resp.StatusCode, resp.TLS != nil)
	}
	// Plain HTTP on the TLS port fails.
	if r, err := http.Get("http://" + addr + "/"); err == nil && r.StatusCode == 200 {
		t.Error("plain HTTP served on the TLS listener")
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSlowClientTimeout checks that a client that never finishes its
// headers is disconnected.
func TestSlowClientTimeout(t *testing.T) {
	ts := newTestServer(t, serverOpts{headerTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write([]byte("GET /api/v1/status HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			break
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("slow client kept for %s", d)
	}
}
