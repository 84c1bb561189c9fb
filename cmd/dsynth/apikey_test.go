package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/record"
)

func TestAPIKeyCommand(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "p.hcl")
	os.WriteFile(pf, []byte(fmt.Sprintf(`profile "p" {
  ports_dir  = %q
  build_base = %q
  records    = %q
  ports      = ["misc/hello"]
}
`, dir, filepath.Join(dir, "base"), filepath.Join(dir, "records.db"))), 0o644)
	runOK := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		old := stderr
		stderr = &errb
		defer func() { stderr = old }()
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("dsynth %v: exit %d\n%s", args, code, errb.String())
		}
		return out.String()
	}
	key := strings.TrimSpace(runOK("apikey", "create", "-name", "ci", "-role", "build", pf))
	if !strings.HasPrefix(key, "dsk_") || strings.Contains(key, "\n") {
		t.Fatalf("create printed %q", key)
	}
	list := runOK("apikey", "list", pf)
	if !strings.Contains(list, "ci") || !strings.Contains(list, "build") || strings.Contains(list, key[len(key)-20:]) {
		t.Fatalf("list:\n%s", list)
	}
	db, err := record.Open(filepath.Join(dir, "records.db"), record.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if k, err := db.VerifyAPIKey(key); err != nil || k.Role != "build" {
		t.Fatalf("verify: %v %v", k, err)
	}
	db.Close()
	runOK("apikey", "revoke", "-key", "ci", pf)
	if l := runOK("apikey", "list", pf); strings.Count(l, "Z  ")+strings.Count(l, "Z\n") < 2 || strings.Contains(l, "  -\n") {
		t.Error("revoked key listed without a revocation time")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"apikey", "create", "-name", "x", "-role", "root", pf}, &out, &errb); code == 0 {
		t.Error("unknown role accepted")
	}
	if code := run([]string{"apikey", "rotate", pf}, &out, &errb); code == 0 {
		t.Error("unknown subcommand accepted")
	}
}
