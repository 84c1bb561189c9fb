package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode"
)

// maxAnswer bounds the size of an error answer: a short message, an
// excerpt of the input at most.
const maxAnswer = 4 << 10

// routePath fills a route's path parameters with harmless values.
func routePath(rt route) string {
	r := strings.NewReplacer("{origin}", "misc/none", "{id}", "0", "{build_id}", "0", "{digest}", "0")
	return Prefix + r.Replace(rt.path)
}

// sendRaw sends body (of length n, read from rd) with content type ct; a
// negative n sends it chunked (no Content-Length).
func (ts *testServer) sendRaw(method, path, ct string, rd io.Reader, n int64) (int, []byte) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.url+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.ContentLength = n
	if n < 0 {
		req.ContentLength = -1
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("X-API-Key", ts.keys["admin"])
	resp, err := ts.httpc.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<26))
	return resp.StatusCode, b
}

// chunks is an io.Reader of n bytes of c that hides its length.
type chunks struct {
	n int64
	c byte
}

func (r *chunks) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n)
	for i := range p[:k] {
		p[i] = r.c
	}
	r.n -= k
	return int(k), nil
}

func (ts *testServer) healthy() {
	ts.t.Helper()
	ts.mustOK("GET", "/api/v1/status", "read", nil, 200)
}

func checkTooLarge(t *testing.T, what string, code int, body []byte) {
	t.Helper()
	var env struct {
		Error *ErrorBody `json:"error"`
	}
	if code != http.StatusRequestEntityTooLarge || json.Unmarshal(body, &env) != nil || env.Error == nil || env.Error.Code != CodeTooLarge {
		t.Errorf("%s: got %d %.300s, want 413 %s", what, code, body, CodeTooLarge)
	}
	if len(body) > maxAnswer {
		t.Errorf("%s: the answer has %d bytes", what, len(body))
	}
}

// TestEveryRouteBoundsItsBody sends an oversized body to every route of
// the router (so that a new route cannot be forgotten) and to paths
// outside it, with and without a Content-Length.
func TestEveryRouteBoundsItsBody(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	paths := map[string]string{"/metrics": "GET", "/": "GET", "/index.html": "GET"}
	for _, rt := range ts.srv.routes {
		paths[routePath(rt)+" "+rt.method] = rt.method
	}
	const over = defaultMaxBody + 1<<10
	for key, method := range paths {
		path, _, _ := strings.Cut(key, " ")
		for _, ct := range []string{"application/json", ""} {
			code, body := ts.sendRaw(method, path, ct, &chunks{n: over, c: ' '}, -1)
			checkTooLarge(t, fmt.Sprintf("%s %s (%s, chunked)", method, path, ct), code, body)
			code, body = ts.sendRaw(method, path, ct, &chunks{n: over, c: ' '}, over)
			checkTooLarge(t, fmt.Sprintf("%s %s (%s, Content-Length)", method, path, ct), code, body)
		}
	}
	ts.healthy()
}

// TestBuildsJSONBodyLimit: POST /builds takes plan files of up to 64 MiB,
// but a JSON body is bounded like every other JSON body (a 30 MiB JSON
// body was accepted and echoed whole in the 400 answer).
func TestBuildsJSONBodyLimit(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	big := []byte(`{"packages":["` + strings.Repeat("x", 30<<20) + `"]}`)
	code, body := ts.sendRaw("POST", "/api/v1/builds", "application/json", bytes.NewReader(big), int64(len(big)))
	checkTooLarge(t, "30 MiB of JSON", code, body)
	code, body = ts.sendRaw("POST", "/api/v1/builds", "application/json", bytes.NewReader(big), -1)
	checkTooLarge(t, "30 MiB of JSON, chunked", code, body)
	code, body = ts.sendRaw("POST", "/api/v1/builds", "application/x-dsynth-plan", &chunks{n: planMaxBody + 1, c: ' '}, -1)
	checkTooLarge(t, "a plan over 64 MiB", code, body)
	code, body = ts.sendRaw("POST", "/api/v1/builds", "application/x-dsynth-plan", &chunks{n: planMaxBody + 1, c: ' '}, planMaxBody+1)
	checkTooLarge(t, "a plan over 64 MiB, Content-Length", code, body)
	ts.healthy()
}

// TestErrorsEchoOnlyExcerpts sends bodies and paths crafted so that the
// error would quote the input: the answer is short and its message holds
// no control character.
func TestErrorsEchoOnlyExcerpts(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	long := strings.Repeat("A", 900<<10)
	evil := "\x1b[31m\u202e" + strings.Repeat("B", 200)
	jsonStr := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	cases := []struct {
		name, method, path, ct, body string
		status                       int
	}{
		{"unknown field", "POST", "/builds", "application/json", `{` + jsonStr(long) + `:1}`, 400},
		{"unknown field, control characters", "POST", "/queue", "application/json", `{` + jsonStr(evil) + `:1}`, 400},
		{"long number", "POST", "/plans", "application/json", `{"profile":` + strings.Repeat("9", 900<<10) + `}`, 400},
		{"bad origin", "POST", "/builds", "application/json", `{"packages":[` + jsonStr(long) + `]}`, 400},
		{"bad origin, control characters", "POST", "/builds", "application/json", `{"packages":[` + jsonStr(evil) + `]}`, 400},
		{"long valid origin", "POST", "/plans", "application/json", `{"packages":["misc/` + strings.Repeat("a", 900<<10) + `"]}`, 422},
		{"unknown profile", "POST", "/plans", "application/json", `{"profile":` + jsonStr(long) + `}`, 404},
		{"unknown profile, control characters", "POST", "/plans", "application/json", `{"profile":` + jsonStr(evil) + `}`, 404},
		{"bad JSON", "POST", "/builds", "application/json", `{"profile":"` + long, 400},
		{"plan with a long unknown field", "POST", "/builds", "application/x-dsynth-plan",
			`{"format_version":2,"digest":"x",` + jsonStr(long) + `:1}`, 400},
		{"plan with a long value", "POST", "/builds", "application/x-dsynth-plan",
			`{"format_version":2,"digest":"x","ports":` + jsonStr(long) + `}`, 400},
		{"long build id", "GET", "/builds/" + strings.Repeat("c", 50<<10), "", "", 404},
		{"long path", "GET", "/" + strings.Repeat("d", 50<<10), "", "", 404},
		{"long origin", "GET", "/packages/misc/" + strings.Repeat("e", 50<<10), "", "", 404},
		{"control characters in the path", "GET", "/builds/%1b%5b31m" + strings.Repeat("f", 300), "", "", 404},
	}
	for _, c := range cases {
		code, body := ts.sendRaw(c.method, Prefix+c.path, c.ct, strings.NewReader(c.body), int64(len(c.body)))
		var env struct {
			Error *ErrorBody `json:"error"`
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Error == nil {
			t.Errorf("%s: %d %.300q: not an error envelope", c.name, code, body)
			continue
		}
		if code != c.status {
			t.Errorf("%s: status %d (%.300q), want %d", c.name, code, env.Error.Message, c.status)
		}
		if len(body) > maxAnswer {
			t.Errorf("%s: the answer has %d bytes: %.300q", c.name, len(body), body)
		}
		if i := strings.IndexFunc(env.Error.Message, func(r rune) bool { return !unicode.IsPrint(r) }); i >= 0 {
			t.Errorf("%s: the message holds an unescaped %q: %q", c.name, env.Error.Message[i:i+1], env.Error.Message)
		}
	}
	// A re-digested plan whose profile breaks a rule with a long value:
	// the diagnostic quotes it, the answer holds an excerpt.
	var pr struct {
		Plan json.RawMessage `json:"plan"`
	}
	ts.mustOK("POST", "/api/v1/plans", "build", map[string]any{}, 201).data(t, &pr)
	p, err := decodePlan(pr.Plan)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.Environment.Network = evil + long
	b, err := encodePlan(p)
	if err != nil {
		t.Fatal(err)
	}
	code, body := ts.sendRaw("POST", "/api/v1/builds", "application/x-dsynth-plan", bytes.NewReader(b), int64(len(b)))
	var env struct {
		Error *ErrorBody `json:"error"`
	}
	if json.Unmarshal(body, &env); code != 400 || env.Error == nil || len(body) > maxAnswer ||
		!strings.Contains(env.Error.Message, "profile.environment.network: Invalid network mode") || strings.ContainsRune(env.Error.Message, 0x1b) {
		t.Errorf("plan with a long network mode: %d, %d bytes: %.600q", code, len(body), body)
	}
	ts.healthy()
}

func TestExcerpt(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1234", "1234"},
		{"misc/hello@color", "misc/hello@color"},
		{"a\x1b[31m\"b\\", `a\x1b[31m\"b\\`},
		{"\u202eevil", `\u202eevil`},
		{"bad\xffutf8", `bad\xffutf8`},
		{strings.Repeat("x", 100), strings.Repeat("x", 64) + "… (100 bytes)"},
		{strings.Repeat("x", 63) + "é" + "yy", strings.Repeat("x", 63) + "… (67 bytes)"},
	} {
		if got := excerpt(c.in); got != c.want {
			t.Errorf("excerpt(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{`unknown field "x"`, `unknown field "x"`},
		{"line\nnext\x1b\xff", `line\nnext\x1b\xff`},
		{strings.Repeat("é", 300), strings.Repeat("é", 256) + "… (600 bytes)"},
	} {
		if got := excerptMessage(c.in); got != c.want {
			t.Errorf("excerptMessage(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
