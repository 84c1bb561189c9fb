package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"golang.org/x/time/rate"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/record"
)

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: real build slots")
	}
}

// eventLog collects the events of a WebSocket client.
type eventLog struct {
	mu     sync.Mutex
	events []Event
	raw    []map[string]any
	notify chan struct{}
	conn   *websocket.Conn
}

func dialEvents(t *testing.T, ts *testServer, key string) *eventLog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.url, "http")+"/api/v1/events",
		&websocket.DialOptions{HTTPHeader: http.Header{"X-API-Key": {ts.keys[key]}}})
	if err != nil {
		t.Fatalf("dial events: %v", err)
	}
	c.SetReadLimit(1 << 20)
	el := &eventLog{notify: make(chan struct{}, 1), conn: c}
	go func() {
		for {
			var m map[string]any
			if err := wsjson.Read(context.Background(), c, &m); err != nil {
				return
			}
			b, _ := json.Marshal(m)
			var e Event
			json.Unmarshal(b, &e)
			el.mu.Lock()
			el.events = append(el.events, e)
			el.raw = append(el.raw, m)
			el.mu.Unlock()
			select {
			case el.notify <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	return el
}

// wait returns the first event from index from on that matches, waiting
// up to d.
func (el *eventLog) wait(t *testing.T, d time.Duration, from int, what string, match func(Event) bool) (int, Event) {
	t.Helper()
	deadline := time.After(d)
	for {
		el.mu.Lock()
		for i := from; i < len(el.events); i++ {
			if match(el.events[i]) {
				e := el.events[i]
				el.mu.Unlock()
				return i, e
			}
		}
		el.mu.Unlock()
		select {
		case <-el.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %s event within %s", what, d)
		}
	}
}

func (el *eventLog) snapshot() []Event {
	el.mu.Lock()
	defer el.mu.Unlock()
	return append([]Event(nil), el.events...)
}

func dataOf(e Event) map[string]any {
	m, _ := e.Data.(map[string]any)
	return m
}

func isProgress(kind, node string) func(Event) bool {
	return func(e Event) bool {
		d := dataOf(e)
		return e.Type == EvBuildProgress && d["kind"] == kind && (node == "" || d["node"] == node)
	}
}

// sseClient follows a log stream and returns its data lines and the end
// event.
func sseClient(ts *testServer, path, key string) (lines []map[string]any, end map[string]any, err error) {
	req, _ := http.NewRequest("GET", ts.url+path+"?api_key="+ts.keys[key], nil)
	resp, err := ts.httpc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		return nil, nil, fmt.Errorf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "event: "):
			event = strings.TrimPrefix(l, "event: ")
		case strings.HasPrefix(l, "data: "):
			var m map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &m); err != nil {
				return nil, nil, fmt.Errorf("data line %q: %w", l, err)
			}
			if event == "end" {
				return lines, m, nil
			}
			lines = append(lines, m)
		case l == "":
			event = ""
		}
	}
	return lines, nil, fmt.Errorf("stream ended without an end event: %v", sc.Err())
}

func noSlotsLeft(t *testing.T, base string) {
	t.Helper()
	ents, _ := os.ReadDir(base)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "SL") {
			t.Errorf("slot %s left in the build base", e.Name())
		}
	}
	if m, err := isolate.MountsUnder(base); err != nil || len(m) > 0 {
		t.Errorf("mounts left under %s: %v %v", base, m, err)
	}
}

// TestLiveBuild runs real builds through the API: WebSocket events in
// order, SSE following a live log, pause/resume, concurrent clients,
// metrics, cancel (no slot left behind), retry and the queue.
func TestLiveBuild(t *testing.T) {
	needRoot(t)
	// The concurrent readers below run as fast as they can: no rate
	// limit, or how fast the machine is decides whether they hit it.
	ts := newTestServer(t, serverOpts{targets: `["devel/libmini", "archivers/unpack-helper"]`, workers: 2, rate: rate.Inf})
	el := dialEvents(t, ts, "read")
	el.wait(t, 5*time.Second, 0, "hello", func(e Event) bool { return e.Type == "hello" })

	var start buildResponse
	ts.mustOK("POST", "/api/v1/builds", "build", map[string]any{}, http.StatusCreated).data(t, &start)
	if start.RunID == "" || start.PackagesQueued != 3 || start.Status != "running" || start.EstimatedS == nil {
		t.Fatalf("start: %+v", start)
	}
	// A paused worker takes no new port.
	ts.mustOK("POST", "/api/v1/workers/1/pause", "build", nil, 200)
	if err := wsjson.Write(context.Background(), el.conn, wsCommand{Action: "subscribe", BuildID: start.RunID}); err != nil {
		t.Fatal(err)
	}
	// Concurrent readers during the build.
	stopReaders := make(chan struct{})
	var readers sync.WaitGroup
	readerErrs := make(chan string, 1000)
	for i := 0; i < 6; i++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			paths := []string{"/api/v1/status", "/api/v1/workers", "/api/v1/builds/" + start.RunID, "/metrics", "/api/v1/queue", "/api/v1/stats"}
			for n := 0; ; n++ {
				select {
				case <-stopReaders:
					return
				default:
				}
				if r := ts.do("GET", paths[n%len(paths)], "read", nil); r.code != 200 {
					readerErrs <- fmt.Sprintf("%s: %d %.200s", paths[n%len(paths)], r.code, r.body)
				}
			}
		}()
	}

	// SSE follows the log of ports-mgmt/pkg live.
	el.wait(t, 30*time.Second, 0, "start of pkg", isProgress("start", "ports-mgmt/pkg"))
	// Worker 0 builds pkg (about half a second of slot and bmake work):
	// pause it now, so that it takes nothing after pkg (see below).
	ts.mustOK("POST", "/api/v1/workers/0/pause", "build", nil, 200)
	var b struct {
		Ports []nodeResult `json:"ports"`
	}
	ts.mustOK("GET", "/api/v1/builds/"+start.RunID, "read", nil, 200).data(t, &b)
	pkgAttempt := ""
	for _, n := range b.Ports {
		if n.Node == "ports-mgmt/pkg" {
			pkgAttempt = n.AttemptID
		}
	}
	if pkgAttempt == "" {
		t.Fatalf("no attempt for pkg while it builds: %+v", b.Ports)
	}
	type sseResult struct {
		lines []map[string]any
		end   map[string]any
		err   error
	}
	sseDone := make(chan sseResult, 1)
	go func() {
		l, e, err := sseClient(ts, "/api/v1/logs/"+pkgAttempt+"/stream", "read")
		sseDone <- sseResult{l, e, err}
	}()

	// Worker 0 was paused while it built pkg: a paused worker
	// finishes its port and takes no new one. Once pkg is built (an
	// event, not a wait), nothing may start while both are paused; once
	// worker 1 is resumed, the next port starts there (worker 0 is still
	// paused), whatever the speed of the machine.
	iBuilt, _ := el.wait(t, 60*time.Second, 0, "pkg built", isProgress("built", "ports-mgmt/pkg"))
	var wv workerView
	for _, w := range []string{"0", "1"} {
		ts.mustOK("GET", "/api/v1/workers/"+w, "read", nil, 200).data(t, &wv)
		if !wv.Paused {
			t.Errorf("worker %s: %+v, want paused", w, wv)
		}
	}
	ts.mustOK("GET", "/api/v1/workers/1", "read", nil, 200).data(t, &wv)
	if wv.State != "paused" {
		t.Errorf("worker 1: %+v", wv)
	}
	for _, e := range el.snapshot()[iBuilt+1:] {
		if isProgress("start", "")(e) {
			t.Errorf("a port started while both workers were paused: %v", e.Data)
		}
	}
	ts.mustOK("POST", "/api/v1/workers/1/resume", "build", nil, 200)
	_, first := el.wait(t, 30*time.Second, iBuilt+1, "start on worker 1", isProgress("start", ""))
	if w := dataOf(first)["worker"]; w != 1.0 {
		t.Errorf("after resuming worker 1 the port started on worker %v", w)
	}
	ts.mustOK("POST", "/api/v1/workers/0/resume", "build", nil, 200)
	iEnd, end := el.wait(t, 90*time.Second, 0, "build end", func(e Event) bool {
		return (e.Type == EvBuildCompleted || e.Type == EvBuildFailed) && e.RunID == start.RunID
	})
	close(stopReaders)
	readers.Wait()
	close(readerErrs)
	for e := range readerErrs {
		t.Error("concurrent reader: " + e)
	}
	if end.Type != EvBuildCompleted || dataOf(end)["status"] != "success" {
		t.Fatalf("build ended with %s %v", end.Type, end.Data)
	}

	// Events: in order, timestamped, per port start < phases < built.
	evs := el.snapshot()[:iEnd+1]
	if evs[0].Type != "hello" {
		t.Errorf("first event %s", evs[0].Type)
	}
	seenStarted, logLines, workerStatus := false, 0, 0
	state := map[string]string{}
	var last time.Time
	for _, e := range evs {
		if e.Time.IsZero() || e.Time.Before(last) {
			t.Errorf("event %s at %s after %s", e.Type, e.Time, last)
		}
		last = e.Time
		d := dataOf(e)
		switch e.Type {
		case EvBuildStarted:
			seenStarted = e.RunID == start.RunID
		case EvBuildProgress:
			if !seenStarted {
				t.Errorf("progress before build.started: %v", d)
			}
			node, kind := fmt.Sprint(d["node"]), fmt.Sprint(d["kind"])
			switch kind {
			case "start":
				if state[node] != "" {
					t.Errorf("%s started twice", node)
				}
			case "phase":
				if state[node] != "start" && state[node] != "phase" {
					t.Errorf("%s: phase %v after %q", node, d["phase"], state[node])
				}
			case "built":
				if state[node] != "phase" {
					t.Errorf("%s built after %q", node, state[node])
				}
			}
			state[node] = kind
		case EvLogLine:
			logLines++
		case EvWorkerStatus:
			workerStatus++
		}
	}
	for _, n := range []string{"ports-mgmt/pkg", "devel/libmini", "archivers/unpack-helper"} {
		if state[n] != "built" {
			t.Errorf("%s: last event %q", n, state[n])
		}
	}
	if logLines == 0 || workerStatus == 0 {
		t.Errorf("%d log.line and %d worker.status events", logLines, workerStatus)
	}
	el.wait(t, 5*time.Second, 0, "system.load", func(e Event) bool { return e.Type == EvSystemLoad })

	// SSE: every line of the log, then the end with the final status.
	select {
	case r := <-sseDone:
		if r.err != nil {
			t.Fatal(r.err)
		}
		logText, _ := os.ReadFile(filepath.Join(ts.prof.LogsDir, "ports-mgmt___pkg.log"))
		want := strings.Count(string(logText), "\n")
		if len(r.lines) != want || r.end["status"] != "success" || want == 0 {
			t.Errorf("SSE: %d lines (log has %d), end %v", len(r.lines), want, r.end)
		}
		if len(r.lines) > 0 && r.lines[0]["n"] != 1.0 {
			t.Errorf("SSE first line %v", r.lines[0])
		}
	case <-time.After(30 * time.Second):
		t.Fatal("SSE stream did not end with the build")
	}

	// Plan versus actual, metrics.
	ts.mustOK("GET", "/api/v1/builds/"+start.RunID, "read", nil, 200).data(t, &b)
	for _, n := range b.Ports {
		if !n.Match || n.Status != "success" {
			t.Errorf("port %+v", n)
		}
	}
	m := string(ts.do("GET", "/metrics", "read", nil).body)
	for _, want := range []string{`dsynth_port_builds_total{outcome="built"} 3`, `dsynth_builds_total{outcome="success"} 1`,
		`dsynth_port_build_duration_seconds_count 3`, `dsynth_phase_duration_seconds_count{phase="build"} 3`, "dsynth_queue_length 0"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	noSlotsLeft(t, ts.prof.BuildBase)

	// The build published the repository; POST /repository publishes it
	// again (once the build is over: its lock is released before /status
	// says idle); both are recorded operations.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var st struct {
			Profiles []struct {
				State string `json:"state"`
			} `json:"profiles"`
		}
		ts.mustOK("GET", "/api/v1/status", "read", nil, 200).data(t, &st)
		if st.Profiles[0].State == "idle" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the build never ended")
		}
		time.Sleep(20 * time.Millisecond) // polling the server's state
	}
	var repos []repositoryView
	ts.mustOK("GET", "/api/v1/repository", "read", nil, 200).data(t, &repos)
	if len(repos) != 1 || repos[0].Current == nil || repos[0].Current.RunID != start.RunID || repos[0].Current.Count != 3 ||
		repos[0].Published == "" || repos[0].URL != "file://"+filepath.Join(ts.prof.PackagesDir, ".latest") {
		t.Fatalf("repository after the build: %+v", repos)
	}
	published := repos[0].Published
	var op record.Operation
	ts.mustOK("POST", "/api/v1/repository", "build", nil, 200).data(t, &op)
	ts.mustErr("POST", "/api/v1/repository", "read", nil, 403, CodeForbidden)
	ts.mustOK("GET", "/api/v1/repository?profile="+ts.prof.Name, "read", nil, 200).data(t, &repos)
	if op.Status != record.OpOK || repos[0].Published == published || repos[0].Current == nil || repos[0].Current.ID != op.ID {
		t.Errorf("POST /repository: %+v, then %+v", op, repos)
	}
	var ops []record.Operation
	ts.mustOK("GET", "/api/v1/database/operations?kind=repository", "read", nil, 200).data(t, &ops)
	if len(ops) != 2 || ops[0].ID != op.ID {
		t.Errorf("operations: %+v", ops)
	}
	ts.mustErr("GET", "/api/v1/database/operations?kind=bogus", "read", nil, 400, CodeBadRequest)
	noSlotsLeft(t, ts.prof.BuildBase)

	// Cancel: the build is interrupted, no slot is left behind.
	{
		var c buildResponse
		ts.mustOK("POST", "/api/v1/builds", "build", map[string]any{"packages": []string{"devel/libmini"}, "force": true}, 201).data(t, &c)
		from := len(el.snapshot())
		el.wait(t, 30*time.Second, from, "a phase of libmini", func(e Event) bool {
			return isProgress("phase", "devel/libmini")(e) && e.RunID == c.RunID
		})
		var run map[string]any
		ts.mustOK("DELETE", "/api/v1/builds/"+c.RunID, "build", nil, 200).data(t, &run)
		if run["status"] != "interrupted" {
			t.Errorf("cancelled run: %v", run)
		}
		noSlotsLeft(t, ts.prof.BuildBase)
		ts.mustErr("DELETE", "/api/v1/builds/"+c.RunID, "build", nil, 409, CodeBuildNotRunning)
		ts.mustErr("DELETE", "/api/v1/builds/00000000-0000", "build", nil, 404, CodeBuildNotFound)
		var bb struct {
			Ports []nodeResult `json:"ports"`
		}
		ts.mustOK("GET", "/api/v1/builds/"+c.RunID, "read", nil, 200).data(t, &bb)
		for _, n := range bb.Ports {
			if n.Node == "devel/libmini" && n.Status != "interrupted" {
				t.Errorf("libmini after cancel: %+v", n)
			}
		}

		// Retry re-plans the interrupted port; meanwhile the queue works.
		var rr buildResponse
		ts.mustOK("POST", "/api/v1/builds/"+c.RunID+"/retry", "build", nil, 201).data(t, &rr)
		if rr.RunID == "" || rr.PackagesQueued != 1 {
			t.Errorf("retry: %+v", rr)
		}
		var q buildResponse
		ts.mustOK("POST", "/api/v1/queue", "build", map[string]any{"packages": []string{"devel/libmini"}}, 202).data(t, &q)
		if q.Position != 1 || q.Planned != 2 || q.EstimatedS == nil { // pkg and libmini, both up to date
			t.Errorf("queued: %+v", q)
		}
		var queue []map[string]any
		ts.mustOK("GET", "/api/v1/queue", "read", nil, 200).data(t, &queue)
		if !strings.Contains(fmt.Sprint(queue), q.QueueID) {
			t.Errorf("queue: %v", queue)
		}
		ts.mustOK("DELETE", "/api/v1/queue/"+q.QueueID, "build", nil, 200)
		ts.mustErr("DELETE", "/api/v1/queue/"+q.QueueID, "build", nil, 404, CodeQueueNotFound)
		_, e := el.wait(t, 60*time.Second, from, "end of the retry", func(e Event) bool {
			return (e.Type == EvBuildCompleted || e.Type == EvBuildFailed) && e.RunID == rr.RunID
		})
		if dataOf(e)["status"] != "success" {
			t.Errorf("retry ended %v", e.Data)
		}
		noSlotsLeft(t, ts.prof.BuildBase)
	}

	// An uploaded plan file is verified and applied (here: all up to date).
	{
		var pr struct {
			Plan json.RawMessage `json:"plan"`
		}
		ts.mustOK("POST", "/api/v1/plans", "build", map[string]any{"packages": []string{"devel/libmini"}}, 201).data(t, &pr)
		var up buildResponse
		ts.mustOK("POST", "/api/v1/builds", "build", []byte(pr.Plan), 201).data(t, &up)
		if up.RunID == "" || up.PackagesQueued != 0 {
			t.Errorf("uploaded plan: %+v", up)
		}
		_, e := el.wait(t, 30*time.Second, 0, "end of the uploaded plan's build", func(e Event) bool {
			return (e.Type == EvBuildCompleted || e.Type == EvBuildFailed) && e.RunID == up.RunID
		})
		if dataOf(e)["status"] != "success" {
			t.Errorf("uploaded plan's build ended %v", e.Data)
		}
	}

	// Shutdown interrupts a running build and records it, as apply does
	// on SIGINT.
	var c buildResponse
	ts.mustOK("POST", "/api/v1/builds", "build", map[string]any{"packages": []string{"archivers/unpack-helper"}, "force": true}, 201).data(t, &c)
	el.wait(t, 30*time.Second, 0, "a phase before shutdown", func(e Event) bool {
		return e.Type == EvBuildProgress && dataOf(e)["kind"] == "phase" && e.RunID == c.RunID
	})
	t0 := time.Now()
	ts.stop()
	t.Logf("shutdown took %s", time.Since(t0))
	db, err := openRO(ts.prof.Records)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run, err := db.Run(c.RunID)
	if err != nil || run.Status != "interrupted" {
		t.Errorf("run after shutdown: %+v %v", run, err)
	}
	noSlotsLeft(t, ts.prof.BuildBase)
}
