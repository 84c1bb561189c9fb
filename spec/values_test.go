package spec

import (
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1048576", 1 << 20, true},
		{"1024k", 1 << 20, true},
		{"1024kb", 1 << 20, true},
		{"512m", 512 << 20, true},
		{"512M", 512 << 20, true},
		{"8g", 8 << 30, true},
		{"8GB", 8 << 30, true},
		{"2t", 2 << 40, true},
		{" 4g ", 4 << 30, true},
		{"", 0, false},
		{"g", 0, false},
		{"-1g", 0, false},
		{"1.5g", 0, false},
		{"8 gigs", 0, false},
		{"8x", 0, false},
		{"99999999999t", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"90s", 90 * time.Second, true},
		{"30m", 30 * time.Minute, true},
		{"4h", 4 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"1d", 24 * time.Hour, true},
		{"2d12h", 60 * time.Hour, true},
		{"30", 0, false},
		{"4 hours", 0, false},
		{"-5m", 0, false},
		{"xd", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestCheckOrigin(t *testing.T) {
	good := []string{"misc/hello", "devel/git@lite", "textproc/wc2@color", "x11-toolkits/gtk30", "lang/gcc12", "www/p5-Foo_Bar", "math/R", "devel/py-setuptools@py311", "graphics/c++"}
	bad := []string{"", "all", "hello", "misc/", "/hello", "misc/hello/", "misc/hello/x", "misc/hello@", "misc/he llo", "../x", "misc/-x", "misc/hello@a@b"}
	for _, o := range good {
		if err := CheckOrigin(o); err != nil {
			t.Errorf("CheckOrigin(%q): %v", o, err)
		}
	}
	for _, o := range bad {
		if err := CheckOrigin(o); err == nil {
			t.Errorf("CheckOrigin(%q): no error", o)
		}
	}
}

func TestEnvFunctionDefault(t *testing.T) {
	read := map[string]string{}
	fn := functions(func(k, v string) { read[k] = v }, func(k string) (string, bool) {
		if k == "SET" {
			return "v", true
		}
		return "", false
	})["env"]
	for _, tc := range []struct{ args, want string }{{"SET", "v"}, {"UNSET", ""}} {
		v, err := fn.Call(ctyStrings(tc.args))
		if err != nil || v.AsString() != tc.want {
			t.Errorf("env(%s) = %#v, %v", tc.args, v, err)
		}
	}
	v, err := fn.Call(ctyStrings("UNSET", "d"))
	if err != nil || v.AsString() != "d" {
		t.Errorf("env(UNSET, d) = %#v, %v", v, err)
	}
	if _, err := fn.Call(ctyStrings("A", "b", "c")); err == nil {
		t.Errorf("env with three arguments: no error")
	}
	if read["SET"] != "v" || read["UNSET"] != "d" {
		t.Errorf("recorded reads: %v", read)
	}
}

func ctyStrings(s ...string) []cty.Value {
	var out []cty.Value
	for _, v := range s {
		out = append(out, cty.StringVal(v))
	}
	return out
}
