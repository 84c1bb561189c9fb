package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeProfile(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.hcl")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadBasics(t *testing.T) {
	src := `
profile "a" {
  ports_dir  = "../ports"
  build_base = "b"
  ports      = ["misc/hello"]
}
profile "b" {
  ports_dir  = "/p"
  build_base = "/b"
  ports      = ["misc/hello"]
}
`
	path := writeProfile(t, src)
	l, diags := Load(path, Options{Profile: "a", CPUs: 1000})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	dir := filepath.Dir(path)
	p := l.Profile
	if p.PortsDir != filepath.Join(filepath.Dir(dir), "ports") || p.BuildBase != filepath.Join(dir, "b") ||
		p.Records != filepath.Join(dir, "b", "records.db") || p.File != path {
		t.Errorf("paths: %+v", p)
	}
	if p.Workers.Count != MaxWorkers {
		t.Errorf("auto workers with 1000 CPUs = %d, want %d", p.Workers.Count, MaxWorkers)
	}
	if p.EnvRead != nil {
		t.Errorf("EnvRead = %v, want nil", p.EnvRead)
	}
	if strings.Join(l.Names, ",") != "a,b" || string(l.Source) != src {
		t.Errorf("Names %v / Source mismatch", l.Names)
	}
	if _, ok := l.Files[path]; !ok {
		t.Errorf("Files lacks %s", path)
	}
	for goos, want := range map[string]string{"linux": "bmake", "freebsd": "make", "dragonfly": "make"} {
		l, _ := Load(path, Options{Profile: "b", GOOS: goos})
		if l.Profile.MakeCommand != want {
			t.Errorf("GOOS=%s: make_command %q, want %q", goos, l.Profile.MakeCommand, want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	l, diags := Load(filepath.Join(t.TempDir(), "none.hcl"), Options{})
	if l == nil || !diags.HasErrors() || diags[0].Summary != "Failed to read profile" {
		t.Fatalf("got %v, %v", l, diags)
	}
	var b strings.Builder
	WriteDiagnostics(&b, l, diags)
	if !strings.Contains(b.String(), "none.hcl") {
		t.Errorf("diagnostic does not name the file: %s", b.String())
	}
}

// TestVarPrecedence: defaults, then -var-file files in order, then -var
// options in order; the last one wins.
func TestVarPrecedence(t *testing.T) {
	path := writeProfile(t, `
variable "n" {
  type    = number
  default = 1
}
variable "m" {
  type = map(string)
  default = {}
}
profile "p" {
  ports_dir  = "/p"
  build_base = "/b"
  ports      = ["misc/hello"]
  make_conf  = merge(var.m, { N = var.n })
}
`)
	dir := filepath.Dir(path)
	f1, f2 := filepath.Join(dir, "1.hcl"), filepath.Join(dir, "2.hcl")
	os.WriteFile(f1, []byte("n = 2\nm = { A = \"x\" }\n"), 0o600)
	os.WriteFile(f2, []byte("n = 3\n"), 0o600)
	tests := []struct {
		opt  Options
		want string
	}{
		{Options{}, "1 "},
		{Options{VarFiles: []string{f1}}, "2 x"},
		{Options{VarFiles: []string{f1, f2}}, "3 x"},
		{Options{VarFiles: []string{f2, f1}}, "2 x"},
		{Options{VarFiles: []string{f1}, Vars: []string{"n=4", "n=5", `m={A="y"}`}}, "5 y"},
	}
	for _, tc := range tests {
		l, diags := Load(path, tc.opt)
		if diags.HasErrors() {
			t.Fatalf("%+v: %v", tc.opt, diags)
		}
		got := l.Profile.MakeConf["N"] + " " + l.Profile.MakeConf["A"]
		if got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.opt, got, tc.want)
		}
	}
}

// TestVariableTypoHint: a mistyped variable name, given with -var, in a
// variables file or referred to, is answered with the name it resembles.
func TestVariableTypoHint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.hcl")
	os.WriteFile(path, []byte("variable \"build_base\" {\n  default = \"/b\"\n}\nprofile \"p\" {\n  ports_dir  = \"ports\"\n  build_base = var.build_base\n  ports      = [\"devel/foo\"]\n}\n"), 0o600)
	vf := filepath.Join(dir, "v.hcl")
	os.WriteFile(vf, []byte("biuld_base = \"/c\"\n"), 0o600)
	for _, opt := range []Options{{Vars: []string{"build_bas=/x"}}, {VarFiles: []string{vf}}} {
		_, diags := Load(path, opt)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), `Did you mean "build_base"?`) {
			t.Errorf("%+v: %v", opt, diags)
		}
	}
	ref := filepath.Join(dir, "r.hcl")
	os.WriteFile(ref, []byte("variable \"build_base\" {\n  default = \"/b\"\n}\nprofile \"p\" {\n  ports_dir  = \"ports\"\n  build_base = var.build_bsae\n  ports      = [\"devel/foo\"]\n}\n"), 0o600)
	if _, diags := Load(ref, Options{}); !strings.Contains(diags.Error(), `Did you mean "build_base"?`) {
		t.Errorf("reference: %v", diags)
	}
	if Suggest("zzzz", []string{"build_base"}) != "" {
		t.Error("a far name is suggested")
	}
}
