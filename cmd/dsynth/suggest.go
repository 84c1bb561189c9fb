package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/go-dsynth/dsynth/spec"
)

// suggest is spec.Suggest: the one typo rule of dsynth.
func suggest(s string, candidates []string) string { return spec.Suggest(s, candidates) }

// commandHint is " Did you mean \"x\"?" for a mistyped command, or "".
func commandHint(name string) string {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	if s := suggest(name, names); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// flagHint is " Did you mean -x?" when err is flag's "flag provided but
// not defined: -y" and fs has a flag close to y.
func flagHint(fs *flag.FlagSet, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: ")
	if !ok {
		return ""
	}
	name = strings.TrimLeft(name, "-")
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if s := suggest(name, names); s != "" {
		return fmt.Sprintf("Did you mean -%s?", s)
	}
	return ""
}

// plural is "1 port" or "2 ports".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// portsPhrase is "this port" or "these N ports".
func portsPhrase(n int) string {
	if n == 1 {
		return "this port"
	}
	return fmt.Sprintf("these %d ports", n)
}
