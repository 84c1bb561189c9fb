package spec

import (
	"strings"
	"testing"
)

// Every diagnostic of a file is rendered in one run with file:line:col, the
// source line and a caret line under the offending range (tabs kept).
func TestWriteDiagnostics(t *testing.T) {
	path := writeProfile(t, "profile \"p\" {\n  ports_dir  = \"/p\"\n  build_base = \"/b\"\n  ports      = [\"misc/hello\"]\n  workers {\n\tcount = 0\n    max_jobs = 9999\n  }\n}\n")
	l, diags := Load(path, Options{})
	var b strings.Builder
	WriteDiagnostics(&b, l, diags)
	got := b.String()
	for _, want := range []string{
		"Error: Value out of range\n\n  on " + path + ":6:10, in profile \"p\":\n   6: \tcount = 0\n      \t        ^\n",
		"  on " + path + ":7:16, in profile \"p\":\n   7:     max_jobs = 9999\n                     ^^^^\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks\n%s\ngot:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "Error: "); n != 2 {
		t.Errorf("%d diagnostics rendered, want 2:\n%s", n, got)
	}
}
