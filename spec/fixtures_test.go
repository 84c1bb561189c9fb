package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/profiles/valid")

const fixtures = "../testdata/profiles"

// fixtureOpts reads the directives of a fixture's leading comments:
//
//	# ARGS: -profile NAME -var K=V -var-file F   (F relative to the fixture)
//	# ENV: NAME=VALUE                            (what env() sees; nothing else is set)
//	# GOOS: freebsd                              (default make_command)
//
// CPUs is always 4, so workers.count = "auto" resolves to 3.
func fixtureOpts(t *testing.T, path string) Options {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	opt := Options{CPUs: 4, GOOS: "linux", Getenv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}
	for _, line := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		body := strings.TrimSpace(strings.TrimPrefix(line, "#"))
		switch {
		case strings.HasPrefix(body, "ARGS:"):
			f := strings.Fields(strings.TrimPrefix(body, "ARGS:"))
			for i := 0; i+1 < len(f); i += 2 {
				switch f[i] {
				case "-profile":
					opt.Profile = f[i+1]
				case "-var":
					opt.Vars = append(opt.Vars, f[i+1])
				case "-var-file":
					opt.VarFiles = append(opt.VarFiles, filepath.Join(filepath.Dir(path), f[i+1]))
				default:
					t.Fatalf("%s: unknown ARGS flag %s", path, f[i])
				}
			}
		case strings.HasPrefix(body, "ENV:"):
			k, v, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(body, "ENV:")), "=")
			env[k] = v
		case strings.HasPrefix(body, "GOOS:"):
			opt.GOOS = strings.TrimSpace(strings.TrimPrefix(body, "GOOS:"))
		}
	}
	return opt
}

// marker is an expected diagnostic: a "# ERROR: <summary substring>" (or
// WARNING) comment on the line the diagnostic points at, or a
// "# GLOBAL ERROR: ..." anywhere for a diagnostic without a source line.
type marker struct {
	key      string // "file:line" or "global"
	severity hcl.DiagnosticSeverity
	summary  string
}

const globalKey = "global"

func readMarkers(t *testing.T, file string) []marker {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []marker
	for i, line := range strings.Split(string(src), "\n") {
		parts := strings.Split(line, "#")
		for _, p := range parts[1:] {
			p = strings.TrimSpace(p)
			key := fmt.Sprintf("%s:%d", file, i+1)
			if strings.HasPrefix(p, "GLOBAL ") {
				key, p = globalKey, strings.TrimPrefix(p, "GLOBAL ")
			}
			switch {
			case strings.HasPrefix(p, "ERROR:"):
				out = append(out, marker{key, hcl.DiagError, strings.TrimSpace(strings.TrimPrefix(p, "ERROR:"))})
			case strings.HasPrefix(p, "WARNING:"):
				out = append(out, marker{key, hcl.DiagWarning, strings.TrimSpace(strings.TrimPrefix(p, "WARNING:"))})
			}
		}
	}
	return out
}

// checkMarkers matches diagnostics and markers one to one.
func checkMarkers(t *testing.T, fixture string, l *Loaded, diags hcl.Diagnostics) {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Dir(fixture))
	scanned := map[string]bool{}
	var markers []marker
	names := []string{fixture}
	for name := range l.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		abs, err := filepath.Abs(name)
		if err != nil || scanned[abs] || !strings.HasPrefix(abs, dir+string(filepath.Separator)) {
			continue
		}
		if _, err := os.Stat(abs); err != nil {
			continue
		}
		scanned[abs] = true
		markers = append(markers, readMarkers(t, abs)...)
	}
	used := make([]bool, len(markers))
	var buf bytes.Buffer
	bad := false
	for _, d := range diags {
		key := globalKey
		if d.Subject != nil {
			if abs, err := filepath.Abs(d.Subject.Filename); err == nil && scanned[abs] {
				key = fmt.Sprintf("%s:%d", abs, d.Subject.Start.Line)
			}
		}
		found := false
		for i, m := range markers {
			if !used[i] && m.key == key && m.severity == d.Severity && strings.Contains(d.Summary, m.summary) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			bad = true
			fmt.Fprintf(&buf, "unexpected diagnostic at %s: %s: %s\n", rel(key, dir), d.Summary, d.Detail)
		}
	}
	for i, m := range markers {
		if !used[i] {
			bad = true
			fmt.Fprintf(&buf, "no diagnostic matches marker at %s: %q\n", rel(m.key, dir), m.summary)
		}
	}
	if bad {
		WriteDiagnostics(&buf, l, diags)
		t.Errorf("%s:\n%s", fixture, buf.String())
	}
}

func rel(key, dir string) string { return strings.TrimPrefix(key, dir+string(filepath.Separator)) }

func fixtureFiles(t *testing.T, sub string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtures, sub, "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".vars.hcl") {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no fixtures in %s", sub)
	}
	return out
}

// TestValidProfiles decodes each valid fixture and compares the resolved
// profile with its golden JSON (paths under the repository shown as $REPO).
func TestValidProfiles(t *testing.T) {
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtureFiles(t, "valid") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			l, diags := Load(f, fixtureOpts(t, f))
			checkMarkers(t, f, l, diags)
			if diags.HasErrors() {
				return
			}
			b, err := json.MarshalIndent(l.Profile, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(string(b), repo, "$REPO") + "\n"
			golden := strings.TrimSuffix(f, ".hcl") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./spec -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the golden file:\n%s", f, lineDiff(string(want), got))
			}
		})
	}
}

// TestInvalidProfiles checks that each invalid fixture yields exactly the
// diagnostics its markers announce, all in one run, and no profile.
func TestInvalidProfiles(t *testing.T) {
	for _, f := range fixtureFiles(t, "invalid") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			l, diags := Load(f, fixtureOpts(t, f))
			if !diags.HasErrors() {
				t.Fatalf("%s: no error", f)
			}
			if l.Profile != nil {
				t.Errorf("%s: a profile was returned with errors", f)
			}
			checkMarkers(t, f, l, diags)
			for _, d := range diags {
				if d.Subject != nil && d.Subject.Start.Line == 0 {
					t.Errorf("%s: diagnostic %q has a subject without a line", f, d.Summary)
				}
			}
		})
	}
}

// lineDiff shows the first differing lines of want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
			if n++; n > 10 {
				break
			}
		}
	}
	return b.String()
}
