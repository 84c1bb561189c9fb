package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/spec"
)

// runCmd runs the dsynth CLI in-process and returns exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	old := stderr
	stderr = &errb
	defer func() { stderr = old }()
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidateCommand(t *testing.T) {
	valid := "../../testdata/profiles/valid/"
	invalid := "../../testdata/profiles/invalid/"
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // substring
		stderr   []string
		noStderr bool
	}{
		{"ok", []string{"validate", valid + "minimal.hcl"}, 0,
			`Success! Profile "min" is valid: 1 target port.`, nil, true},
		{"vars", []string{"validate", "-var-file", valid + "full.vars.hcl", "-var", `extra_ports=["x11/xterm"]`, valid + "full.hcl"}, 0,
			`Success! Profile "release" is valid: 6 target ports; it reads the environment variables DSYNTH_TEST_LANG, DSYNTH_TEST_UNSET (pinned by a plan).`, nil, true},
		{"all", []string{"validate", valid + "all.hcl"}, 0, "all ports of the tree", nil, true},
		{"select", []string{"validate", "-profile", "release", valid + "multi.hcl"}, 0,
			`Profile "release" is valid: 2 target ports.`, nil, true},
		{"several", []string{"validate", valid + "multi.hcl"}, 1, "",
			[]string{"Error: Several profiles: choose one with -profile", `"release", "test"`, "multi.hcl:19:1"}, false},
		{"unknown profile", []string{"validate", "-profile", "nope", valid + "multi.hcl"}, 1, "",
			[]string{"Error: Unknown profile", `"release", "test"`}, false},
		{"missing var", []string{"validate", valid + "full.hcl"}, 1, "",
			[]string{`Error: No value for required variable`, "full.hcl:11:1"}, false},
		{"errors", []string{"validate", invalid + "values.hcl"}, 1, "",
			[]string{"values.hcl:8:23", "count           = 0", "Value out of range", "values.hcl:14:23", "Invalid duration"}, false},
		{"ports_file", []string{"validate", invalid + "origins.hcl"}, 1, "",
			[]string{"origins.ports:3:1", "   3: not an origin", "not an origin"}, false},
		{"no file", []string{"validate", "/nonexistent.hcl"}, 1, "", []string{"Failed to read profile"}, false},
		{"no args", []string{"validate"}, 1, "", []string{"expected exactly one argument"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout %q lacks %q", out, tc.stdout)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errs, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errs)
				}
			}
			if tc.noStderr && errs != "" {
				t.Errorf("unexpected stderr:\n%s", errs)
			}
		})
	}
}

func TestValidateJSON(t *testing.T) {
	code, out, errs := runCmd(t, "validate", "-json", "-var", "build_base=/tmp/x", "../../examples/demo.hcl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var p spec.Profile
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	abs, _ := filepath.Abs("../../examples/ports")
	if p.Name != "demo" || p.BuildBase != "/tmp/x" || p.PackagesDir != "/tmp/x/packages" || p.PortsDir != abs {
		t.Errorf("unexpected profile: %+v", p)
	}
	if got := strings.Join(p.Targets, " "); got != "meta/demo-all misc/fortune-lite" {
		t.Errorf("targets %q", got)
	}
	if p.Workers.Count != 2 || p.Environment.Network != spec.NetworkNone {
		t.Errorf("workers/network: %+v %+v", p.Workers, p.Environment)
	}
}

// TestExamplesValidate checks that every profile of every example file
// is valid.
func TestExamplesValidate(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.hcl")
	if len(files) < 2 {
		t.Fatalf("example profiles missing: %v", files)
	}
	for _, f := range files {
		l, diags := spec.Load(f, spec.Options{})
		names := l.Names
		if len(names) == 0 {
			t.Errorf("%s: no profiles: %v", f, diags)
		}
		for _, n := range names {
			code, out, errs := runCmd(t, "validate", "-profile", n, f)
			if code != 0 || !strings.HasPrefix(out, "Success!") {
				t.Errorf("%s -profile %s: exit %d\n%s%s", f, n, code, out, errs)
			}
		}
		code, out, _ := runCmd(t, "fmt", "-check", f)
		if code != 0 {
			t.Errorf("%s is not formatted: %s", f, out)
		}
	}
}

// TestBinary runs the built command, as the README does.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "dsynth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "validate", "../../examples/demo.hcl")
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "Success! Profile \"demo\" is valid: 2 target ports.\n" {
		t.Errorf("validate demo: %v\n%s", err, out)
	}
	cmd = exec.Command(bin, "validate", "../../testdata/profiles/invalid/enums.hcl")
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("invalid profile: want exit 1, got %v", err)
	}
	if so.Len() != 0 || strings.Count(se.String(), "Error: ") != 5 {
		t.Errorf("want 5 errors on stderr only; stdout %q stderr:\n%s", so.String(), se.String())
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(f, []byte("profile \"x\" {\nports_dir=\"a\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(bin, "fmt", "-check", f).Run(); err == nil {
		t.Errorf("fmt -check of an unformatted file: exit 0")
	}
	if out, err := exec.Command(bin, "fmt", f).CombinedOutput(); err != nil {
		t.Errorf("fmt: %v\n%s", err, out)
	}
	if err := exec.Command(bin, "fmt", "-check", f).Run(); err != nil {
		t.Errorf("fmt -check after fmt: %v", err)
	}
}
