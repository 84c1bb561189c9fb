package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/go-dsynth/dsynth/record"
)

// streamLog serves a port build's log as Server-Sent Events: one
// `data:` JSON line per log line, following the log while the port
// builds, then an `end` event with the port's final status.
func (s *Server) streamLog(w http.ResponseWriter, r *http.Request, p params) error {
	at, ps, err := s.findAttempt(p["build_id"])
	if err != nil {
		return err
	}
	path, err := logPath(ps, at)
	if err != nil {
		return err
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		if u, ok2 := w.(interface{ Unwrap() http.ResponseWriter }); ok2 {
			fl, ok = u.Unwrap().(http.Flusher)
		}
	}
	if !ok {
		return errf(http.StatusInternalServerError, CodeInternal, "streaming is not supported by this connection")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var wmu sync.Mutex
	send := func(event string, v any) {
		b, _ := json.Marshal(v)
		wmu.Lock()
		defer wmu.Unlock()
		if event != "" {
			fmt.Fprintf(w, "event: %s\n", event)
		}
		fmt.Fprintf(w, "data: %s\n\n", b)
		fl.Flush()
	}
	fmt.Fprintf(w, ": log of %s (%s)\nretry: 2000\n\n", at.NodeID, at.ID)
	fl.Flush()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	end := make(chan struct{})
	final := at
	go func() {
		// The port's end: its attempt leaves "building" in the records.
		defer close(end)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		hb := time.NewTicker(15 * time.Second)
		defer hb.Stop()
		for final.Status == record.AttemptBuilding {
			select {
			case <-ctx.Done():
				return
			case <-s.ctx.Done():
				return
			case <-hb.C:
				wmu.Lock()
				fmt.Fprint(w, ": keep-alive\n\n")
				fl.Flush()
				wmu.Unlock()
			case <-t.C:
				withDB(ps, func(db *record.DB) error {
					a, err := db.Attempt(at.ID)
					if err == nil {
						final = a
					}
					return err
				})
			}
		}
	}()
	n := 0
	followFile(ctx, path, at.Start.Add(-time.Second), end, 100*time.Millisecond, func(line string) {
		n++
		send("", map[string]any{"n": n, "line": line})
	})
	ended := ctx.Err() == nil
	// The watcher writes keep-alives: it must be gone before the handler
	// returns.
	cancel()
	<-end
	if ended {
		send("end", map[string]any{"attempt_id": at.ID, "node": at.NodeID, "status": final.Status, "lines": n})
	}
	return nil
}

// wsCommand is a message a client sends on /api/v1/events.
type wsCommand struct {
	// Action is "subscribe" or "unsubscribe" (log lines of a build).
	Action string `json:"action"`
	// BuildID is a run id.
	BuildID string `json:"build_id"`
}

// events serves the WebSocket event stream. Clients that fall more than
// subBuffer events behind are dropped (closed with status 1008); builds
// never wait for them.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _ params) error {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{r.Host}})
	if err != nil {
		return nil // Accept wrote the HTTP error
	}
	defer c.CloseNow()
	c.SetReadLimit(4096)
	// First message: who we are, so that clients need no extra call.
	sub := s.hub.subscribe(Event{Type: "hello", Data: map[string]any{"version": s.cfg.Version, "profiles": s.order}})
	defer s.hub.unsubscribe(sub)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// Reader: subscription commands.
	go func() {
		defer cancel()
		for {
			var cmd wsCommand
			if err := wsjson.Read(ctx, c, &cmd); err != nil {
				return
			}
			switch cmd.Action {
			case "subscribe", "unsubscribe":
				id := cmd.BuildID
				if run, err := s.findRun(id); err == nil {
					id = run.ID
				}
				sub.subscribeLogs(id, cmd.Action == "subscribe")
				s.hub.sendTo(sub, Event{Type: "subscription", RunID: id, Data: map[string]any{"action": cmd.Action}})
			}
		}
	}()
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			c.Close(websocket.StatusNormalClosure, "")
			return nil
		case <-sub.gone:
			// Send what is buffered? A dropped client is too slow: close.
			select {
			case <-s.ctx.Done():
				c.Close(websocket.StatusGoingAway, "server shutting down")
			default:
				c.Close(websocket.StatusPolicyViolation, "client too slow, events dropped")
			}
			return nil
		case <-ping.C:
			pctx, pc := context.WithTimeout(ctx, 10*time.Second)
			err := c.Ping(pctx)
			pc()
			if err != nil {
				return nil
			}
		case e := <-sub.ch:
			wctx, wc := context.WithTimeout(ctx, 10*time.Second)
			err := wsjson.Write(wctx, c, e)
			wc()
			if err != nil {
				return nil
			}
		}
	}
}
