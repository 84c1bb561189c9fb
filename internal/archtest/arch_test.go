package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/go-dsynth/dsynth/"

// rules: for each top-level package (its sub-packages follow its row),
// the top-level packages of ours it may import. internal/ helpers may be
// imported by anyone; a package may import its own sub-packages and
// parent.
var rules = map[string][]string{
	"spec":    {},
	"plan":    {"spec", "record"},
	"isolate": {},
	"record":  {},
	"execute": {"plan", "isolate", "record"},
	"api":     {"plan", "execute", "record", "spec"},
	"cmd":     {"spec", "plan", "isolate", "record", "execute", "api"},
}

// known are the imports that still break the rules, each with why: the
// test fails when a new one appears, and when one of these is gone (then
// remove it from the list).
var known = map[string]string{}

func topOf(pkg string) string {
	top, _, _ := strings.Cut(pkg, "/")
	return top
}

// imports lists our packages (non-test) and the packages of ours each imports.
func imports(t *testing.T) map[string][]string {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(f[0], module)
		m[pkg] = nil
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, module) {
				m[pkg] = append(m[pkg], strings.TrimPrefix(imp, module))
			}
		}
	}
	return m
}

// TestImportRules checks every package's imports against the rules, and
// that bbolt is imported by record alone.
func TestImportRules(t *testing.T) {
	seen := map[string]bool{}
	for pkg, imps := range imports(t) {
		from := topOf(pkg)
		allowed, ok := rules[from]
		if from == "internal" {
			continue // test and shared helpers
		}
		if !ok {
			t.Errorf("package %s is in no row of the import rules (top level %q)", pkg, from)
			continue
		}
		for _, imp := range imps {
			to := topOf(imp)
			if to == from || to == "internal" {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || a == to
			}
			if ok {
				continue
			}
			key := from + " -> " + to
			if _, k := known[key]; k {
				seen[key] = true
				continue
			}
			t.Errorf("%s imports %s: the design allows %s only %v", pkg, imp, from, allowed)
		}
	}
	var gone []string
	for k := range known {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	sort.Strings(gone)
	for _, k := range gone {
		t.Errorf("known violation %q no longer occurs: remove it from the list", k)
	}
	out, err := exec.Command("go", "list", "-test", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list -test: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if strings.HasPrefix(f[0], module+"record") {
			continue
		}
		for _, imp := range f[1:] {
			if imp == "go.etcd.io/bbolt" {
				t.Errorf("%s imports bbolt: only record may (it exposes domain operations)", f[0])
			}
		}
	}
}
