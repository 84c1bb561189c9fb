package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const unformatted = `profile "x" {
ports_dir="a"
    build_base = "/b"
  ports=["a/b"]
}
`

const formatted = `profile "x" {
  ports_dir  = "a"
  build_base = "/b"
  ports      = ["a/b"]
}
`

func TestFmtCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o640); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	bad := write("bad.hcl", unformatted)
	good := write("good.hcl", formatted)

	// -check lists the unformatted file, exits 1 and writes nothing.
	code, out, _ := runCmd(t, "fmt", "-check", bad, good)
	if code != 1 || out != bad+"\n" || read(bad) != unformatted {
		t.Errorf("fmt -check: code %d out %q", code, out)
	}
	// -diff shows the change.
	code, out, _ = runCmd(t, "fmt", "-check", "-diff", bad)
	for _, s := range []string{"-ports_dir=\"a\"", "+  ports_dir  = \"a\"", "@@ -1,5 +1,5 @@"} {
		if code != 1 || !strings.Contains(out, s) {
			t.Errorf("fmt -diff: code %d, output lacks %q:\n%s", code, s, out)
		}
	}
	// Without -check the file is rewritten, keeping its mode.
	code, out, _ = runCmd(t, "fmt", dir)
	if code != 0 || out != bad+"\n" || read(bad) != formatted || read(good) != formatted {
		t.Errorf("fmt: code %d out %q\n%s", code, out, read(bad))
	}
	if st, _ := os.Stat(bad); st.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %v", st.Mode())
	}
	code, _, _ = runCmd(t, "fmt", "-check", dir)
	if code != 0 {
		t.Errorf("fmt -check after fmt: code %d", code)
	}
	// A syntax error is reported and nothing is written.
	broken := write("broken.hcl", "profile \"x\" {\n  a = \n}\n")
	code, _, errs := runCmd(t, "fmt", broken)
	if code != 1 || !strings.Contains(errs, "broken.hcl:2:7") || read(broken) != "profile \"x\" {\n  a = \n}\n" {
		t.Errorf("fmt of a broken file: code %d\n%s", code, errs)
	}
	if code, _, errs := runCmd(t, "fmt"); code != 1 || !strings.Contains(errs, "expected one or more") {
		t.Errorf("fmt without files: code %d %s", code, errs)
	}
}
