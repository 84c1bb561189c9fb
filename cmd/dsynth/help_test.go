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
