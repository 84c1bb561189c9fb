package api

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/go-dsynth/dsynth/record"
)

// TestWebSocketSlowClientDropped runs the slow-client rule through real
// sockets: a client that stops reading is dropped by the server once it
// lags subBuffer events behind, publishing never waits for it, and a
// client that reads gets every event in order.
func TestWebSocketSlowClientDropped(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	fast := dialEvents(t, ts, record.RoleRead)
	fast.wait(t, 5*time.Second, 0, "hello", func(e Event) bool { return e.Type == "hello" })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The slow client's socket has a small receive buffer (the kernel
	// would otherwise absorb tens of megabytes on loopback).
	var slowConn *net.TCPConn
	small := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			slowConn = c.(*net.TCPConn)
			err = slowConn.SetReadBuffer(16 << 10)
		}
		return c, err
	}}
	slow, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.url, "http")+"/api/v1/events",
		&websocket.DialOptions{HTTPClient: &http.Client{Transport: small},
			HTTPHeader: http.Header{"X-API-Key": {ts.keys[record.RoleRead]}}})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	slow.SetReadLimit(1 << 20)
	subs := func() int {
		ts.srv.hub.mu.Lock()
		defer ts.srv.hub.mu.Unlock()
		return len(ts.srv.hub.subs)
	}
	waitFor := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("%s: not within %s (subscribers: %d)", what, d, subs())
			}
		}
	}
	waitFor("both clients subscribed", 5*time.Second, func() bool { return subs() == 2 })

	// 4 x subBuffer events of 8 KiB: far more than the socket buffers
	// hold (16 KiB to receive, at most 4 MiB to send), so the slow client's writer blocks and its queue overflows.
	const n = 4 * subBuffer
	pad := strings.Repeat("x", 8<<10)
	floods := func() int {
		c := 0
		for _, e := range fast.snapshot() {
			if e.Type == "test.flood" {
				c++
			}
		}
		return c
	}
	var publishing time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		ts.srv.publish(Event{Type: "test.flood", Data: map[string]any{"i": i, "pad": pad}})
		publishing += time.Since(t0)
		// The reading client is paced so that it never lags a whole
		// buffer behind, however slow this machine; the other one
		// never reads.
		if i%64 == 63 {
			waitFor("fast client keeps up", 30*time.Second, func() bool { return floods() == i+1 })
		}
	}
	if publishing > 5*time.Second {
		t.Errorf("publishing %d events took %s", n, publishing)
	}
	waitFor("slow client dropped", 20*time.Second, func() bool { return subs() == 1 })

	// The reading client got every event, in order.
	next := 0
	for _, e := range fast.snapshot() {
		if e.Type != "test.flood" {
			continue
		}
		if i := dataOf(e)["i"]; i != float64(next) {
			t.Fatalf("fast client: event %v where %d was due", i, next)
		}
		next++
	}

	// The slow client, reading at last (and fast), gets what was in
	// flight and then the server's close frame saying why (1008), never
	// the whole flood.
	if err := slowConn.SetReadBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	got := 0
	rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer rcancel()
	for {
		var e Event
		if err = wsjson.Read(rctx, slow, &e); err != nil {
			break
		}
		if e.Type == "test.flood" {
			got++
		}
	}
	if rctx.Err() != nil {
		t.Fatalf("the dropped client's connection stayed open: %v", err)
	}
	if got >= n {
		t.Errorf("the dropped client received all %d events", got)
	}
	st := websocket.CloseStatus(err)
	t.Logf("dropped client read %d of %d events, then %v (close status %d)", got, n, err, st)
	if st != websocket.StatusPolicyViolation {
		t.Errorf("dropped client closed with status %d, want %d", st, websocket.StatusPolicyViolation)
	}
}
