package main

import (
	"strings"
	"testing"
)

func TestDidYouMean(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"aply", "x.plan"}, `unknown command "aply". Did you mean "apply"?`},
		{[]string{"stauts"}, `Did you mean "status"?`},
		{[]string{"help", "histroy"}, `Did you mean "history"?`},
		{[]string{"plan", "-ot", "x", "p.hcl"}, "Did you mean -out?"},
		{[]string{"zzzzzz"}, `unknown command "zzzzzz".`},
	} {
		var out, errb strings.Builder
		if code := run(c.args, &out, &errb); code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, errb.String(), c.want)
		}
	}
	var out, errb strings.Builder
	run([]string{"zzzzzz"}, &out, &errb)
	if strings.Contains(errb.String(), "Did you mean") {
		t.Errorf("a far-off name got a suggestion: %q", errb.String())
	}
	if plural(1, "worker") != "1 worker" || plural(2, "worker") != "2 workers" || portsPhrase(1) != "this port" {
		t.Errorf("plural")
	}
}
