package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeLoadProfiles(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "p.hcl")
	os.WriteFile(pf, []byte(`profile "a" {
  ports_dir  = "ports"
  build_base = "/tmp/a"
  ports      = ["misc/hello"]
}
profile "b" {
  ports_dir  = "ports"
  build_base = "/tmp/b"
  ports      = ["misc/hello"]
}
`), 0o644)
	old := stderr
	var errb bytes.Buffer
	stderr = &errb
	defer func() { stderr = old }()
	for _, tc := range []struct {
		names []string
		want  string // profile names, or "error"
	}{
		{nil, "a b"},
		{[]string{"b"}, "b"},
		{[]string{"b", "a"}, "a b"},
		{[]string{"c"}, "error"},
	} {
		ls, err := loadProfiles([]string{pf}, tc.names, nil, nil)
		got := "error"
		if err == nil {
			var n []string
			for _, l := range ls {
				n = append(n, l.Profile.Name)
			}
			got = strings.Join(n, " ")
		}
		if got != tc.want {
			t.Errorf("-profile %v: got %q, want %q (%v)", tc.names, got, tc.want, err)
		}
	}
	var out bytes.Buffer
	if code := run([]string{"serve", "-tls-cert", "x", pf}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "-tls-key") {
		t.Errorf("serve with -tls-cert alone: %d %s", code, errb.String())
	}
}
