package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EPlanReusesUnchanged: once a build has made the records, a
// re-plan of an unchanged tree reuses the last plan (and says so), an
// edit or an apply makes a fresh one, and the plan files agree.
func TestE2EPlanReusesUnchanged(t *testing.T) {
	dir := e2eSetup(t, "misc/minicat")
	out, code := dsynth(t, dir, "plan", "-out", "plan.json", "p.hcl")
	mustCode(t, out, code, 0, "plan")
	if _, err := os.Stat(filepath.Join(dir, "base", "planmemo")); err == nil {
		t.Fatal("a plan without records left a memo behind")
	}
	out, code = dsynth(t, dir, "apply", "plan.json")
	mustCode(t, out, code, 0, "apply")

	const reused = "Nothing the last plan was made from has changed"
	plan := func(what string, want bool) string {
		t.Helper()
		var code int
		out, code = dsynth(t, dir, "plan", "-out", "plan.json", "p.hcl")
		mustCode(t, out, code, 0, what)
		if strings.Contains(out, reused) != want {
			t.Fatalf("%s: reused %v, want %v:\n%s", what, !want, want, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, "plan.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	first := plan("plan after the build", false)
	if again := plan("unchanged", true); again != first {
		t.Fatal("the reused plan's file differs from the fresh one's")
	}
	mk := filepath.Join(dir, "ports", "misc", "minicat", "Makefile")
	f, err := os.OpenFile(mk, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# a comment\n")
	f.Close()
	if edited := plan("port edited", false); !strings.Contains(edited, `"reason": "port changed`) {
		t.Fatalf("the edited port is not rebuilt:\n%s", edited)
	}
	if want := "The last plan was not reused: 1 port changed (misc/minicat)."; !strings.Contains(out, want) {
		t.Errorf("the plan does not say why it was made again (%q):\n%s", want, out)
	}
	plan("unchanged since the edit", true)
	out, code = dsynth(t, dir, "apply", "plan.json")
	mustCode(t, out, code, 0, "apply")
	plan("after an apply", false)
	if want := "The last plan was not reused: the package records changed."; !strings.Contains(out, want) {
		t.Errorf("the plan does not say why it was made again (%q):\n%s", want, out)
	}
}
