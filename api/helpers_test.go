package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

func TestMain(m *testing.M) {
	// Build slots re-execute the test binary as their helper.
	isolate.MaybeRunHelper()
	// Every reused plan is checked against a fresh one (see plan's memo).
	os.Setenv("DSYNTH_PLAN_MEMO", "check")
	os.Exit(m.Run())
}

// testServer is a server on 127.0.0.1 with a real records database and
// one key per role.
type testServer struct {
	t     *testing.T
	srv   *Server
	url   string
	dir   string
	prof  *spec.Profile
	keys  map[string]string // role -> key
	stop  func()
	httpc *http.Client
}

type serverOpts struct {
	rate    rate.Limit
	burst   int
	public  bool
	workers int
	targets string // HCL list of ports
	// portsDir is the ports tree (default testdata/ports/good).
	portsDir string
	// headerTimeout overrides Config.HeaderTimeout.
	headerTimeout time.Duration
}

func newTestServer(t *testing.T, o serverOpts) *testServer {
	t.Helper()
	dir := t.TempDir()
	ports := o.portsDir
	if ports == "" {
		var err error
		if ports, err = filepath.Abs("../testdata/ports/good"); err != nil {
			t.Fatal(err)
		}
	}
	if o.targets == "" {
		o.targets = `["devel/libmini"]`
	}
	if o.workers == 0 {
		o.workers = 2
	}
	hcl := fmt.Sprintf(`profile "test" {
  ports_dir    = %q
  build_base   = %q
  records      = %q
  make_command = "bmake"
  ports        = %s
  make_conf    = { API_TOKEN = "hunter2", CFLAGS = "-O2" }
  workers {
    count    = %d
    throttle = false # how loaded the test machine is must not decide the workers
  }
}
`, ports, filepath.Join(dir, "base"), filepath.Join(dir, "records.db"), o.targets, o.workers)
	pf := filepath.Join(dir, "profile.hcl")
	if err := os.WriteFile(pf, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	l, diags := spec.Load(pf, spec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	db, err := record.Open(l.Profile.Records, record.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, role := range []string{record.RoleRead, record.RoleBuild, record.RoleAdmin} {
		k, _, err := db.CreateAPIKey(role+"-key", role)
		if err != nil {
			t.Fatal(err)
		}
		keys[role] = k
	}
	db.Close()
	if o.rate == 0 {
		o.rate, o.burst = 1000, 1000
	}
	srv, err := New(Config{Profiles: []*spec.Loaded{l}, Version: "test", Rate: o.rate, Burst: o.burst,
		MetricsPublic: o.public, LoadInterval: 200 * time.Millisecond, HeaderTimeout: o.headerTimeout})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serveOn(t, srv, "", "")
	ts := &testServer{t: t, srv: srv, url: "http://" + addr, dir: dir, prof: l.Profile, keys: keys,
		httpc: &http.Client{Timeout: 3 * time.Minute}, stop: stop}
	t.Cleanup(ts.stop)
	return ts
}

// serveOn serves srv on a fresh 127.0.0.1 port (TLS with cert and key)
// and returns its address and a stop function that shuts it down and
// checks that it stopped cleanly (safe to call twice).
func serveOn(t *testing.T, srv *Server, cert, key string) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, cert, key) }()
	var once sync.Once
	return ln.Addr().String(), func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(90 * time.Second):
				t.Error("serve did not shut down")
			}
		})
	}
}

// response is a decoded envelope.
type response struct {
	code   int
	header http.Header
	env    struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  *ErrorBody      `json:"error"`
		Meta   Meta            `json:"meta"`
	}
	body []byte
}

func (r *response) data(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.env.Data, v); err != nil {
		t.Fatalf("decode data: %v\n%s", err, r.body)
	}
}

func (r *response) errCode() string {
	if r.env.Error == nil {
		return ""
	}
	return r.env.Error.Code
}

// do sends a request with key (role name or literal key) and body (nil,
// []byte or a value encoded as JSON).
func (ts *testServer) do(method, path, key string, body any) *response {
	ts.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "application/x-dsynth-plan"
	default:
		j, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, ts.url+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if k, ok := ts.keys[key]; ok {
		key = k
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := ts.httpc.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := &response{code: resp.StatusCode, header: resp.Header}
	out.body, _ = io.ReadAll(resp.Body)
	if bytes.HasPrefix(bytes.TrimSpace(out.body), []byte("{")) && resp.Header.Get("Content-Type") != "" &&
		bytes.Contains([]byte(resp.Header.Get("Content-Type")), []byte("json")) {
		if err := json.Unmarshal(out.body, &out.env); err != nil {
			ts.t.Fatalf("%s %s: bad JSON: %v\n%s", method, path, err, out.body)
		}
	}
	return out
}

// mustOK fails unless the response is a success envelope with status code.
func (ts *testServer) mustOK(method, path, key string, body any, code int) *response {
	ts.t.Helper()
	r := ts.do(method, path, key, body)
	if r.code != code || r.env.Status != "success" || r.env.Meta.RequestID == "" || r.env.Meta.Version != "test" {
		ts.t.Fatalf("%s %s: got %d %s, want %d success", method, path, r.code, r.body, code)
	}
	return r
}

// mustErr fails unless the response is an error envelope with code.
func (ts *testServer) mustErr(method, path, key string, body any, status int, code string) *response {
	ts.t.Helper()
	r := ts.do(method, path, key, body)
	if r.code != status || r.env.Status != "error" || r.errCode() != code || r.env.Meta.RequestID == "" {
		ts.t.Fatalf("%s %s: got %d %s, want %d %s", method, path, r.code, r.body, status, code)
	}
	return r
}

// decodePlan decodes and verifies a plan file.
func decodePlan(b []byte) (*plan.Plan, error) {
	f, err := planfile.Decode(b)
	if err != nil {
		return nil, err
	}
	return f.Plan(), nil
}

// encodePlan is the plan file of p.
func encodePlan(p *plan.Plan) ([]byte, error) {
	f, err := planfile.Encode(p)
	if err != nil {
		return nil, err
	}
	return f.Bytes(), nil
}

// cliRun plans the served profile and holds its build base as a CLI
// apply does (an execute.Session, closed with the test), for a run serve
// did not start.
func cliRun(t *testing.T, ts *testServer) (*plan.Plan, *execute.Session) {
	t.Helper()
	p, _, err := plan.Create(context.Background(), plan.Options{Profile: ts.prof})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{ts.prof.PackagesDir + "/All", ts.prof.DistfilesDir, ts.prof.OptionsDir} {
		os.MkdirAll(d, 0o755)
	}
	sess, err := execute.Open(ts.prof.BuildBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return p, sess
}
