package main

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

// TestHelpListsFlags checks that `dsynth help CMD` and `dsynth CMD -h`
// describe every flag of every command.
func TestHelpListsFlags(t *testing.T) {
	for name, c := range commands {
		var want []string
		fs := newFlagSet(c, &bytes.Buffer{})
		c.flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			want = append(want, "-"+f.Name)
			if strings.TrimSpace(f.Usage) == "" {
				t.Errorf("dsynth %s: flag -%s has no description", name, f.Name)
			}
		})
		for _, args := range [][]string{{"help", name}, {name, "-h"}} {
			var out, errb bytes.Buffer
			if code := run(args, &out, &errb); code != 0 {
				t.Errorf("dsynth %s: exit %d", strings.Join(args, " "), code)
			}
			text := out.String() + errb.String()
			for _, f := range want {
				if !strings.Contains(text, f) {
					t.Errorf("dsynth %s: flag %s not described", strings.Join(args, " "), f)
				}
			}
		}
	}
}

// TestTopLevelExitCodes: usage requests exit 0 on stdout; unknown commands,
// unknown help topics and bad flags exit 1 with the message on stderr.
func TestTopLevelExitCodes(t *testing.T) {
	for _, c := range []struct {
		args    []string
		code    int
		inOut   string
		inErr   string
		emptyEr bool
	}{
		{[]string{"help"}, exitOK, "Commands:", "", true},
		{[]string{"-h"}, exitOK, "Commands:", "", true},
		{[]string{"help", "validate"}, exitOK, "-var-file", "", true},
		{[]string{"validate", "-h"}, exitOK, "", "-var-file", false},
		{[]string{"help", "bogus"}, exitError, "", `unknown command "bogus"`, false},
		{[]string{"bogus"}, exitError, "", `unknown command "bogus"`, false},
		{[]string{"validate", "-bogus", "x.hcl"}, exitError, "", "flag provided but not defined: -bogus", false},
		{[]string{}, exitError, "", "Commands:", false},
	} {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		if code != c.code || !strings.Contains(out.String(), c.inOut) || !strings.Contains(errb.String(), c.inErr) || (c.emptyEr && errb.Len() > 0) {
			t.Errorf("dsynth %q: code %d stdout %q stderr %q", c.args, code, out.String(), errb.String())
		}
	}
}
