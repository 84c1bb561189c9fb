package api

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes checks api/openapi.json against the route
// table: the same endpoints, path parameters declared, roles recorded.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Role       string `json:"x-dsynth-role"`
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	s := &Server{}
	routes := s.buildRoutes()
	inDoc := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			inDoc[strings.ToUpper(m)+" "+p] = true
		}
	}
	inCode := map[string]bool{}
	param := regexp.MustCompile(`\{(\w+)\}`)
	for _, rt := range routes {
		key := rt.method + " " + Prefix + rt.path
		inCode[key] = true
		op, ok := doc.Paths[Prefix+rt.path][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("%s is served but not documented", key)
			continue
		}
		if op.Role != rt.role {
			t.Errorf("%s: documented role %q, served with %q", key, op.Role, rt.role)
		}
		for _, m := range param.FindAllStringSubmatch(rt.path, -1) {
			found := false
			for _, p := range op.Parameters {
				found = found || (p.Name == m[1] && p.In == "path")
			}
			if !found {
				t.Errorf("%s: path parameter %s not documented", key, m[1])
			}
		}
		if len(op.Responses) == 0 {
			t.Errorf("%s: no responses documented", key)
		}
	}
	var extra []string
	for k := range inDoc {
		if !inCode[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		t.Errorf("%s is documented but not served", k)
	}
}

// TestOriginRouting checks that origins with a slash route to the right
// endpoint whatever follows them.
func TestOriginRouting(t *testing.T) {
	s := &Server{}
	s.routes = s.buildRoutes()
	for _, tc := range []struct{ method, path, want, origin string }{
		{"GET", "/packages/editors/vim", "/packages/{origin}", "editors/vim"},
		{"GET", "/packages/editors/vim/history", "/packages/{origin}/history", "editors/vim"},
		{"GET", "/packages/editors/vim@py3/deps", "/packages/{origin}/deps", "editors/vim@py3"},
		{"GET", "/packages/editors/vim/status", "/packages/{origin}/status", "editors/vim"},
		{"GET", "/stats/package/editors/vim", "/stats/package/{origin}", "editors/vim"},
		{"GET", "/packages/editors", "", ""},
		{"GET", "/packages/editors/vim/nope", "", ""},
		{"GET", "/packages/editors/../history", "", ""},
	} {
		rt, p, _ := s.findRoute(tc.method, tc.path)
		got := ""
		if rt != nil {
			got = rt.path
		}
		if got != tc.want || (rt != nil && p["origin"] != tc.origin) {
			t.Errorf("%s: route %q origin %q, want %q %q", tc.path, got, p["origin"], tc.want, tc.origin)
		}
	}
}
