package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

// seeded is what seedRecords wrote.
type seeded struct {
	run     *record.Run
	okAtt   *record.Attempt // ports-mgmt/pkg, success, with a package
	failAtt *record.Attempt // devel/libmini, failed
	pkgSum  string
	digest  string
}

// seedRecords records a finished run of a real plan (made through POST
// /plans) with one built and one failed port, their logs and package.
func seedRecords(t *testing.T, ts *testServer) *seeded {
	t.Helper()
	r := ts.mustOK("POST", "/api/v1/plans", "build", map[string]any{}, http.StatusCreated)
	var pr struct {
		Digest string          `json:"digest"`
		Plan   json.RawMessage `json:"plan"`
	}
	r.data(t, &pr)
	p, err := decodePlan(pr.Plan)
	if err != nil {
		t.Fatalf("POST /plans returned an invalid plan: %v", err)
	}
	if p.Digest != pr.Digest || p.Node("devel/libmini") == nil || p.Node("ports-mgmt/pkg") == nil {
		t.Fatalf("plan %s: %+v", pr.Digest, p.Order)
	}
	prof := ts.prof
	for _, d := range []string{prof.LogsDir, filepath.Join(prof.PackagesDir, "All")} {
		os.MkdirAll(d, 0o755)
	}
	t0 := time.Now().UTC().Add(-time.Hour)
	run := &record.Run{ID: "11111111-aaaa-bbbb-cccc-000000000001", PlanDigest: p.Digest, Plan: pr.Plan, ProfileName: "test",
		BuildBase: prof.BuildBase, Workers: 2, Start: t0, End: t0.Add(time.Minute), Status: record.RunFailed,
		Counts: record.Counts{Planned: 2, Built: 1, Failed: 1}}
	pkgNode := p.Node("ports-mgmt/pkg")
	pkgData := []byte("package bytes of pkg")
	sum := sha256.Sum256(pkgData)
	os.WriteFile(filepath.Join(prof.PackagesDir, "All", pkgNode.PkgFile), pkgData, 0o644)
	okLog := filepath.Join(prof.LogsDir, execute.LogName("ports-mgmt/pkg"))
	os.WriteFile(okLog, []byte("line 1\nline 2\nline 3\n"), 0o644)
	failLog := filepath.Join(prof.LogsDir, execute.LogName("devel/libmini"))
	os.WriteFile(failLog, []byte("cc -c libmini.c\n*** Error code 1\n"), 0o644)
	ok := &record.Attempt{ID: "22222222-0000-0000-0000-000000000001", RunID: run.ID, NodeID: "ports-mgmt/pkg", Origin: "ports-mgmt/pkg",
		Version: pkgNode.Version, Worker: 0, Action: "build", Status: record.AttemptSuccess, Start: t0, End: t0.Add(20 * time.Second),
		PkgFile: pkgNode.PkgFile, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(pkgData)), LogPath: okLog,
		Env: []string{"SECRET=x"}}
	fail := &record.Attempt{ID: "33333333-0000-0000-0000-000000000001", RunID: run.ID, NodeID: "devel/libmini", Origin: "devel/libmini",
		Worker: 1, Action: "build", Status: record.AttemptFailed, Start: t0.Add(20 * time.Second), End: t0.Add(50 * time.Second),
		LastPhase: "build", Error: "make build exited 1", LogPath: failLog}
	// An attempt whose recorded log path points outside logs_dir.
	evil := &record.Attempt{ID: "44444444-0000-0000-0000-000000000001", RunID: run.ID, NodeID: "misc/evil", Origin: "misc/evil",
		Worker: 1, Action: "build", Status: record.AttemptFailed, Start: t0, End: t0, LogPath: "/etc/passwd", PkgFile: "../../../etc/passwd"}
	db, err := openRW(prof.Records)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Write(func(tx *record.Tx) error {
		if err := tx.PutRun(run); err != nil {
			return err
		}
		for _, a := range []*record.Attempt{ok, fail, evil} {
			if err := tx.PutAttempt(a); err != nil {
				return err
			}
		}
		if err := tx.PutWorker(&record.Worker{RunID: run.ID, Worker: 0, State: "idle", NodeID: "ports-mgmt/pkg", Built: 1}); err != nil {
			return err
		}
		if err := tx.PutWorker(&record.Worker{RunID: run.ID, Worker: 1, State: "idle", NodeID: "devel/libmini", Failed: 1}); err != nil {
			return err
		}
		return tx.PutPackage(record.Package{NodeID: "ports-mgmt/pkg", Version: pkgNode.Version, PkgFile: pkgNode.PkgFile,
			SHA256: ok.SHA256, AttemptID: ok.ID, RunID: run.ID, Built: ok.End.Format(time.RFC3339)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return &seeded{run: run, okAtt: ok, failAtt: fail, pkgSum: ok.SHA256, digest: p.Digest}
}

func TestAuth(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	// Missing, wrong and malformed keys.
	ts.mustErr("GET", "/api/v1/status", "", nil, 401, CodeUnauthorized)
	bad := ts.keys["admin"][:len(ts.keys["admin"])-4] + "0000"
	ts.mustErr("GET", "/api/v1/status", bad, nil, 401, CodeUnauthorized)
	ts.mustErr("GET", "/api/v1/status", "dsk_nope", nil, 401, CodeUnauthorized)
	// Roles.
	ts.mustOK("GET", "/api/v1/status", "read", nil, 200)
	ts.mustErr("POST", "/api/v1/builds", "read", map[string]any{}, 403, CodeForbidden)
	ts.mustErr("POST", "/api/v1/plans", "read", map[string]any{}, 403, CodeForbidden)
	ts.mustErr("DELETE", "/api/v1/builds/x", "read", nil, 403, CodeForbidden)
	ts.mustErr("POST", "/api/v1/workers/0/pause", "read", nil, 403, CodeForbidden)
	ts.mustErr("POST", "/api/v1/database/clean", "build", nil, 403, CodeForbidden)
	ts.mustErr("GET", "/api/v1/database/export", "build", nil, 403, CodeForbidden)
	ts.mustOK("POST", "/api/v1/database/clean", "admin", nil, 200)
	// The key in the query string is only for streams.
	ts.mustErr("GET", "/api/v1/status?api_key="+ts.keys["read"], "", nil, 401, CodeUnauthorized)
	// Streams: header or query key, still checked.
	ts.mustErr("GET", "/api/v1/events", "", nil, 401, CodeUnauthorized)
	ts.mustErr("GET", "/api/v1/logs/x/stream?api_key=dsk_wrong", "", nil, 401, CodeUnauthorized)
	ts.mustErr("GET", "/api/v1/logs/nope/stream?api_key="+ts.keys["read"], "", nil, 404, CodeBuildNotFound)
	// Revocation works at once, while the server runs.
	db, err := openRW(ts.prof.Records)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RevokeAPIKey("read-key"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ts.mustErr("GET", "/api/v1/status", "read", nil, 401, CodeUnauthorized)
	// /metrics needs a key unless public; the dashboard never does.
	if r := ts.do("GET", "/metrics", "", nil); r.code != 401 {
		t.Errorf("/metrics without key: %d", r.code)
	}
	if r := ts.do("GET", "/metrics", "build", nil); r.code != 200 || !bytes.Contains(r.body, []byte("dsynth_queue_length")) {
		t.Errorf("/metrics: %d %.200s", r.code, r.body)
	}
	if r := ts.do("GET", "/", "", nil); r.code != 200 || !bytes.Contains(r.body, []byte("<html")) {
		t.Errorf("dashboard: %d %.100s", r.code, r.body)
	}
	// Unknown paths and methods.
	ts.mustErr("GET", "/api/v1/nope", "admin", nil, 404, CodeNotFound)
	ts.mustErr("PUT", "/api/v1/builds", "admin", nil, 405, CodeMethodNotAllowed)
	ts.mustErr("POST", "/", "", nil, 405, CodeMethodNotAllowed)

	pub := newTestServer(t, serverOpts{public: true})
	if r := pub.do("GET", "/metrics", "", nil); r.code != 200 {
		t.Errorf("public /metrics: %d", r.code)
	}
}

func TestRateLimit(t *testing.T) {
	ts := newTestServer(t, serverOpts{rate: 1, burst: 3})
	for i := 0; i < 3; i++ {
		ts.mustOK("GET", "/api/v1/status", "read", nil, 200)
	}
	r := ts.mustErr("GET", "/api/v1/status", "read", nil, 429, CodeRateLimited)
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 2 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// Another key has its own budget.
	ts.mustOK("GET", "/api/v1/status", "build", nil, 200)
	time.Sleep(time.Duration(ra) * time.Second)
	ts.mustOK("GET", "/api/v1/status", "read", nil, 200)
}

func TestBodyLimitsAndBadInput(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	big := map[string]any{"profile": strings.Repeat("x", 2<<20)}
	ts.mustErr("POST", "/api/v1/plans", "build", big, 413, CodeTooLarge)
	// Too large and not even JSON: still "too large", not "bad JSON".
	req, _ := http.NewRequest("POST", ts.url+"/api/v1/plans", strings.NewReader(strings.Repeat("a", 2<<20)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", ts.keys["build"])
	resp, err := ts.httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("2 MiB of non-JSON: %s, want 413", resp.Status)
	}
	ts.mustErr("POST", "/api/v1/plans", "build", map[string]any{"nope": 1}, 400, CodeBadRequest)
	ts.mustErr("POST", "/api/v1/plans", "build", map[string]any{"profile": "other"}, 404, CodeProfileNotFound)
	ts.mustErr("POST", "/api/v1/plans", "build", map[string]any{"packages": []string{"../etc"}}, 400, CodeBadRequest)
	ts.mustErr("POST", "/api/v1/plans", "build", map[string]any{"packages": []string{"misc/does-not-exist"}}, 422, CodePlanFailed)
	// keep_going: the missing target is a failed node of the plan.
	var kg struct {
		Plan json.RawMessage `json:"plan"`
	}
	ts.mustOK("POST", "/api/v1/plans", "build", map[string]any{"packages": []string{"misc/does-not-exist"}, "keep_going": true}, 201).data(t, &kg)
	if kp, err := decodePlan(kg.Plan); err != nil || kp.Node("misc/does-not-exist") == nil || kp.Node("misc/does-not-exist").Action != plan.ActionFailed {
		t.Errorf("keep_going plan: %v %s", err, kg.Plan)
	}
	ts.mustErr("POST", "/api/v1/builds", "build", []byte("not a plan"), 400, CodeBadRequest)
	// A valid plan of a profile this server does not serve.
	r := ts.mustOK("POST", "/api/v1/plans", "build", map[string]any{}, 201)
	var pr struct {
		Plan json.RawMessage `json:"plan"`
	}
	r.data(t, &pr)
	p, err := decodePlan(pr.Plan)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.Name = "elsewhere"
	other, err := encodePlan(p)
	if err != nil {
		t.Fatal(err)
	}
	ts.mustErr("POST", "/api/v1/builds", "build", other, 404, CodeProfileNotFound)
	tampered := bytes.Replace(pr.Plan, []byte(`"version":"`), []byte(`"version":"9`), 1)
	if bytes.Equal(tampered, pr.Plan) {
		t.Fatal("the plan was not tampered with")
	}
	ts.mustErr("POST", "/api/v1/builds", "build", tampered, 400, CodeBadRequest)
	ts.mustErr("GET", "/api/v1/builds?page=0", "read", nil, 400, CodeBadRequest)
	ts.mustErr("GET", "/api/v1/builds?since=yesterday", "read", nil, 400, CodeBadRequest)
	ts.mustErr("GET", "/api/v1/builds?profile=nope", "read", nil, 404, CodeProfileNotFound)
}

func TestReadEndpoints(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	sd := seedRecords(t, ts)
	var runs []map[string]any
	r := ts.mustOK("GET", "/api/v1/builds?status=failed&profile=test&since=24h", "read", nil, 200)
	r.data(t, &runs)
	if len(runs) != 1 || runs[0]["id"] != sd.run.ID || runs[0]["plan"] != nil || r.env.Meta.Total != 1 {
		t.Fatalf("builds: %s", r.body)
	}
	r = ts.mustOK("GET", "/api/v1/builds?status=success", "read", nil, 200)
	if r.data(t, &runs); len(runs) != 0 {
		t.Fatalf("status filter: %s", r.body)
	}
	r = ts.mustOK("GET", "/api/v1/builds?page=2&per_page=1", "read", nil, 200)
	if r.data(t, &runs); len(runs) != 0 || r.env.Meta.Page != 2 {
		t.Fatalf("page 2: %s", r.body)
	}
	var b struct {
		Build map[string]any `json:"build"`
		Ports []nodeResult   `json:"ports"`
	}
	ts.mustOK("GET", "/api/v1/builds/11111111", "read", nil, 200).data(t, &b)
	got := map[string]nodeResult{}
	for _, n := range b.Ports {
		got[n.Node] = n
	}
	if g := got["ports-mgmt/pkg"]; g.Status != "success" || !g.Match || g.AttemptID != sd.okAtt.ID {
		t.Errorf("pkg: %+v", g)
	}
	if g := got["devel/libmini"]; g.Status != "failed" || g.Match || g.LastPhase != "build" {
		t.Errorf("libmini: %+v", g)
	}
	ts.mustOK("GET", "/api/v1/builds/last", "read", nil, 200)
	ts.mustErr("GET", "/api/v1/builds/nope-nope", "read", nil, 404, CodeBuildNotFound)

	// Packages, with origins holding a slash.
	var pk []record.Package
	ts.mustOK("GET", "/api/v1/packages?q=pkg", "read", nil, 200).data(t, &pk)
	if len(pk) != 1 || pk[0].NodeID != "ports-mgmt/pkg" {
		t.Errorf("packages: %+v", pk)
	}
	var one map[string]any
	ts.mustOK("GET", "/api/v1/packages/ports-mgmt/pkg", "read", nil, 200).data(t, &one)
	if one["pkgfile"] == "" || one["last_build"] == nil {
		t.Errorf("package: %v", one)
	}
	// No endpoint shows a build's environment (it may hold secrets).
	for _, path := range []string{"/api/v1/packages/ports-mgmt/pkg", "/api/v1/packages/ports-mgmt/pkg/status",
		"/api/v1/packages/ports-mgmt/pkg/history", "/api/v1/builds/" + sd.run.ID, "/api/v1/logs/" + sd.okAtt.ID} {
		if r := ts.do("GET", path, "read", nil); r.code != 200 || strings.Contains(string(r.body), "SECRET=x") {
			t.Errorf("%s: %d, shows the build environment: %.300s", path, r.code, r.body)
		}
	}
	var deps map[string]any
	ts.mustOK("GET", "/api/v1/packages/devel/libmini/deps", "read", nil, 200).data(t, &deps)
	if deps["node"] != "devel/libmini" || deps["plan_digest"] != sd.digest {
		t.Errorf("deps of libmini: %v", deps)
	}
	var hist []record.Attempt
	ts.mustOK("GET", "/api/v1/packages/devel/libmini/history", "read", nil, 200).data(t, &hist)
	if len(hist) != 1 || hist[0].Status != "failed" {
		t.Errorf("history: %+v", hist)
	}
	ts.mustOK("GET", "/api/v1/packages/ports-mgmt/pkg/history", "read", nil, 200).data(t, &hist)
	if len(hist) != 1 || hist[0].Env != nil {
		t.Errorf("history leaks the environment: %+v", hist)
	}
	var st map[string]any
	ts.mustOK("GET", "/api/v1/packages/devel/libmini/status", "read", nil, 200).data(t, &st)
	if st["state"] != "failed" {
		t.Errorf("status: %v", st)
	}
	ts.mustErr("GET", "/api/v1/packages/misc/unknown", "read", nil, 404, CodePackageNotFound)
	ts.mustErr("GET", "/api/v1/packages/misc/unknown/history", "read", nil, 404, CodePackageNotFound)

	// Workers of the last run, status, stats.
	var ws []workerView
	ts.mustOK("GET", "/api/v1/workers", "read", nil, 200).data(t, &ws)
	if len(ws) != 2 || ws[1].Failed != 1 || ws[0].Built != 1 {
		t.Errorf("workers: %+v", ws)
	}
	var wv workerView
	ts.mustOK("GET", "/api/v1/workers/1", "read", nil, 200).data(t, &wv)
	ts.mustErr("GET", "/api/v1/workers/7", "read", nil, 404, CodeWorkerNotFound)
	ts.mustErr("GET", "/api/v1/workers/x", "read", nil, 400, CodeBadRequest)
	var wl map[string]any
	ts.mustOK("GET", "/api/v1/workers/1/log", "read", nil, 200).data(t, &wl)
	if !strings.Contains(fmt.Sprint(wl["log"]), "Error code 1") {
		t.Errorf("worker log: %v", wl)
	}
	ts.mustErr("POST", "/api/v1/workers/0/pause", "build", nil, 409, CodeBuildNotRunning)
	ts.mustOK("GET", "/api/v1/status", "read", nil, 200)
	var stats struct {
		Stats   record.Stats `json:"stats"`
		PerHour []hourBucket `json:"per_hour"`
	}
	ts.mustOK("GET", "/api/v1/stats", "read", nil, 200).data(t, &stats)
	if stats.Stats.Success != 1 || stats.Stats.Failed != 2 || len(stats.PerHour) != 24 {
		t.Errorf("stats: %+v", stats)
	}
	n := 0
	for _, h := range stats.PerHour {
		n += h.Success + h.Failed
	}
	if n != 3 {
		t.Errorf("per hour: %+v", stats.PerHour)
	}
	ts.mustOK("GET", "/api/v1/stats/today", "read", nil, 200)
	var sp map[string]any
	ts.mustOK("GET", "/api/v1/stats/package/devel/libmini", "read", nil, 200).data(t, &sp)
	if sp["failed"] != 1.0 {
		t.Errorf("package stats: %v", sp)
	}

	// Logs and artifacts: ids are looked up, paths come from the records
	// and must stay in logs_dir / packages_dir.
	var lg struct {
		Lines []string `json:"lines"`
	}
	ts.mustOK("GET", "/api/v1/logs/"+sd.okAtt.ID+"?tail=2", "read", nil, 200).data(t, &lg)
	if strings.Join(lg.Lines, ",") != "line 2,line 3" {
		t.Errorf("log tail: %v", lg.Lines)
	}
	if r := ts.do("GET", "/api/v1/logs/"+sd.okAtt.ID+"?format=text", "read", nil); r.code != 200 || string(r.body) != "line 1\nline 2\nline 3\n" {
		t.Errorf("text log: %d %q", r.code, r.body)
	}
	var rl map[string]any
	ts.mustOK("GET", "/api/v1/logs/"+sd.run.ID, "read", nil, 200).data(t, &rl)
	ts.mustErr("GET", "/api/v1/logs/44444444", "read", nil, 404, CodeLogNotFound)
	ts.mustErr("GET", "/api/v1/logs/..%2f..%2fetc%2fpasswd", "read", nil, 404, CodeNotFound)
	ts.mustErr("GET", "/api/v1/packages/../etc/history", "read", nil, 404, CodeNotFound)
	ts.mustErr("GET", "/api/v1/packages/a%00/b", "read", nil, 400, CodeBadRequest)
	ts.mustErr("GET", "/api/v1/logs/nope", "read", nil, 404, CodeLogNotFound)
	r = ts.do("GET", "/api/v1/artifacts/"+sd.okAtt.ID, "read", nil)
	s := sha256.Sum256(r.body)
	if r.code != 200 || hex.EncodeToString(s[:]) != sd.pkgSum || r.header.Get("X-Checksum-SHA256") != sd.pkgSum {
		t.Errorf("artifact: %d %q", r.code, r.body)
	}
	ts.mustErr("GET", "/api/v1/artifacts/"+sd.failAtt.ID, "read", nil, 404, CodeArtifactNotFound)
	ts.mustErr("GET", "/api/v1/artifacts/44444444", "read", nil, 404, CodeArtifactNotFound)

	// Plans: the one POST /plans made, and the run's.
	var gp map[string]any
	ts.mustOK("GET", "/api/v1/plans/"+sd.digest, "read", nil, 200).data(t, &gp)
	ts.mustOK("GET", "/api/v1/plans/"+sd.digest+"?format=graph", "read", nil, 200)
	ts.mustErr("GET", "/api/v1/plans/0000", "read", nil, 404, CodePlanNotFound)

	// Configuration without secrets.
	r = ts.mustOK("GET", "/api/v1/config", "read", nil, 200)
	if bytes.Contains(r.body, []byte("hunter2")) || !bytes.Contains(r.body, []byte("-O2")) {
		t.Errorf("config: %s", r.body)
	}
	var profs []map[string]any
	ts.mustOK("GET", "/api/v1/config/profiles", "read", nil, 200).data(t, &profs)
	if len(profs) != 1 || profs[0]["name"] != "test" {
		t.Errorf("profiles: %v", profs)
	}

	// Database.
	var dbs []map[string]any
	ts.mustOK("GET", "/api/v1/database/stats", "read", nil, 200).data(t, &dbs)
	if len(dbs) != 1 || dbs[0]["buckets"].(map[string]any)["runs"] != 1.0 {
		t.Errorf("database stats: %v", dbs)
	}
	var ex struct {
		Runs     []map[string]any `json:"runs"`
		Attempts []map[string]any `json:"attempts"`
		APIKeys  []map[string]any `json:"apikeys"`
	}
	r = ts.mustOK("GET", "/api/v1/database/export", "admin", nil, 200)
	r.data(t, &ex)
	if len(ex.Runs) != 1 || len(ex.Attempts) != 3 || len(ex.APIKeys) != 3 || bytes.Contains(r.body, []byte(`"hash"`)) {
		t.Errorf("export: %.500s", r.body)
	}
	os.Remove(filepath.Join(ts.prof.PackagesDir, "All", sd.okAtt.PkgFile))
	var cl []map[string]any
	ts.mustOK("POST", "/api/v1/database/clean", "admin", nil, 200).data(t, &cl)
	if !strings.Contains(fmt.Sprint(cl), "ports-mgmt/pkg") {
		t.Errorf("clean: %v", cl)
	}
	ts.mustOK("GET", "/api/v1/packages/ports-mgmt/pkg/status", "read", nil, 200).data(t, &st)
	if st["state"] != "never-built" && st["state"] != "built" {
		t.Errorf("status after clean: %v", st)
	}
	if ps := st["packages"].([]any); len(ps) != 0 {
		t.Errorf("package record survived clean: %v", st)
	}
}

// TestConcurrentReaders hits the server from many clients at once.
func TestConcurrentReaders(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	seedRecords(t, ts)
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range []string{"/api/v1/builds", "/api/v1/status", "/api/v1/packages", "/api/v1/stats", "/api/v1/workers", "/api/v1/builds/last"} {
				r := ts.do("GET", p, "read", nil)
				if r.code != 200 {
					errs <- fmt.Sprintf("%s: %d %s", p, r.code, r.body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestReplayArtifactsAndLogs: a replay builds into its own packages and
// logs folders (under <build_base>/replay/<key>); its artifacts and logs
// are served from there, not from the live repository.
func TestReplayArtifactsAndLogs(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	sd := seedRecords(t, ts)
	dir := filepath.Join(ts.prof.BuildBase, "replay", "k1")
	pkgs, logs := filepath.Join(dir, "packages"), filepath.Join(dir, "logs")
	for _, d := range []string{filepath.Join(pkgs, "All"), logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data := []byte("the replay's package, not the live one")
	sum := sha256.Sum256(data)
	os.WriteFile(filepath.Join(pkgs, "All", sd.okAtt.PkgFile), data, 0o644)
	lp := filepath.Join(logs, execute.LogName("ports-mgmt/pkg"))
	os.WriteFile(lp, []byte("replayed\n"), 0o644)
	t0 := sd.run.End.Add(time.Hour)
	run := &record.Run{ID: "55555555-aaaa-bbbb-cccc-000000000001", PlanDigest: sd.digest, Plan: sd.run.Plan, ProfileName: "test",
		BuildBase: ts.prof.BuildBase, Workers: 1, Start: t0, End: t0.Add(time.Minute), Status: record.RunSuccess,
		ReplayOf: sd.run.ID, PackagesDir: pkgs}
	at := &record.Attempt{ID: "66666666-0000-0000-0000-000000000001", RunID: run.ID, NodeID: "ports-mgmt/pkg", Origin: "ports-mgmt/pkg",
		Action: "build", Status: record.AttemptSuccess, Start: t0, End: t0.Add(time.Second), PkgFile: sd.okAtt.PkgFile,
		SHA256: hex.EncodeToString(sum[:]), LogPath: lp}
	db, err := openRW(ts.prof.Records)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(func(tx *record.Tx) error {
		if err := tx.PutRun(run); err != nil {
			return err
		}
		return tx.PutAttempt(at)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := ts.do("GET", "/api/v1/artifacts/"+at.ID, "read", nil)
	if r.code != 200 || !bytes.Equal(r.body, data) || r.header.Get("X-Checksum-SHA256") != at.SHA256 {
		t.Errorf("replay artifact: %d %q", r.code, r.body)
	}
	if r := ts.do("GET", "/api/v1/logs/"+at.ID+"?format=text", "read", nil); r.code != 200 || string(r.body) != "replayed\n" {
		t.Errorf("replay log: %d %q", r.code, r.body)
	}
	// The live build's artifact is still the live one.
	if r := ts.do("GET", "/api/v1/artifacts/"+sd.okAtt.ID, "read", nil); r.header.Get("X-Checksum-SHA256") != sd.pkgSum || bytes.Equal(r.body, data) {
		t.Errorf("live artifact after a replay: %d %q", r.code, r.body)
	}
}

// TestUploadedPlanMustUseServedProfile: an uploaded plan carries its own
// resolved profile (mounts, folders); one that differs from the served
// profile is refused, even with a valid digest, before anything runs.
func TestUploadedPlanMustUseServedProfile(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	var pr struct {
		Plan json.RawMessage `json:"plan"`
	}
	ts.mustOK("POST", "/api/v1/plans", "build", map[string]any{}, 201).data(t, &pr)
	p, err := decodePlan(pr.Plan)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.Environment.Mounts = append(p.Settings.Environment.Mounts, plan.Mount{Target: "/host-root", Source: "/"})
	b, err := encodePlan(p)
	if err != nil {
		t.Fatal(err)
	}
	ts.mustErr("POST", "/api/v1/builds", "build", b, 409, CodeConflict)
	// A plan that breaks a profile rule is refused before it is compared.
	p, _ = decodePlan(pr.Plan)
	p.Settings.PackagesDir = "/"
	if b, err = encodePlan(p); err != nil {
		t.Fatal(err)
	}
	r := ts.mustErr("POST", "/api/v1/builds", "build", b, 400, CodeBadRequest)
	if want := `invalid plan file: profile.packages_dir: Invalid path: packages_dir must not be the root folder "/"`; !strings.Contains(r.env.Error.Message, want) {
		t.Errorf("edited plan: %q, want %q", r.env.Error.Message, want)
	}
	if rs, err := openRW(ts.prof.Records); err == nil {
		runs, _ := rs.Runs()
		rs.Close()
		if len(runs) != 0 {
			t.Errorf("a refused upload recorded %d runs", len(runs))
		}
	}
}
