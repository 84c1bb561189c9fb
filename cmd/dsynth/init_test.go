package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/spec"
)

func TestInitWritesAValidProfileAndNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "dsynth.hcl")
	ports := filepath.Join(dir, "ports")
	if err := os.MkdirAll(filepath.Join(ports, "ports-mgmt/pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	if code := run([]string{"init", "-ports", ports, "-build-base", filepath.Join(dir, "b"), file}, &out, &errb); code != 0 {
		t.Fatalf("init: %d %s", code, errb.String())
	}
	l, diags := spec.Load(file, spec.Options{})
	if diags.HasErrors() || l.Profile == nil {
		t.Fatalf("the starter profile does not load: %v", diags)
	}
	if p := l.Profile; p.PortsDir != ports || p.Workers.Count < 1 {
		t.Errorf("profile %+v", p)
	}
	before, _ := os.ReadFile(file)
	out.Reset()
	errb.Reset()
	if code := run([]string{"init", file}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "never overwrites") {
		t.Errorf("second init: %d %q", code, errb.String())
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Errorf("init overwrote the profile")
	}
	if code := run([]string{"init", "-ports", "relative", filepath.Join(dir, "x.hcl")}, &out, &errb); code == 0 {
		t.Errorf("init with a relative ports dir succeeded")
	}
}
