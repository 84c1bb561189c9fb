package portscan

import (
	"path"
	"strings"
)

// Ref names a port and flavor; Flavor "" is the default flavor.
type Ref struct {
	Origin string
	Flavor string
}

func (r Ref) String() string {
	if r.Flavor == "" {
		return r.Origin
	}
	return r.Origin + "@" + r.Flavor
}

// ParseRef parses "category/port[@flavor]".
func ParseRef(s string) Ref {
	if i := strings.IndexByte(s, '@'); i >= 0 {
		return Ref{Origin: s[:i], Flavor: s[i+1:]}
	}
	return Ref{Origin: s}
}

// Dep is one entry of a *_DEPENDS variable.
type Dep struct {
	// Var is the variable it came from, e.g. BUILD_DEPENDS.
	Var string
	Ref Ref
}

// ParseDepends parses a *_DEPENDS value: space-separated
// `target:origin[@flavor][:make-target]` entries. origin may be
// `category/port`, `${PORTSDIR}/category/port` or an absolute path under
// portsDir (older trees expand it); all become `category/port`.
// `/nonexistent:<dir>[:<target>]` entries (nothing on disk satisfies
// them: the port needs the other port's source or a target run in it) are
// dependencies like the others: the other port comes first. Entries that
// cannot be parsed are returned in bad.
func ParseDepends(varName, value, portsDir string) (deps []Dep, bad []string) {
	for _, e := range strings.Fields(value) {
		parts := strings.Split(e, ":")
		if len(parts) < 2 || parts[1] == "" {
			bad = append(bad, e)
			continue
		}
		o := NormalizeOrigin(parts[1], portsDir)
		r := ParseRef(o)
		if strings.Count(r.Origin, "/") != 1 || strings.HasPrefix(r.Origin, "/") || strings.HasSuffix(r.Origin, "/") {
			bad = append(bad, e)
			continue
		}
		deps = append(deps, Dep{Var: varName, Ref: r})
	}
	return deps, bad
}

// NormalizeOrigin turns `${PORTSDIR}/cat/port`, `<portsDir>/cat/port` or
// any absolute `/path/cat/port` into `cat/port` (a flavor suffix is kept).
func NormalizeOrigin(o, portsDir string) string {
	o = strings.TrimPrefix(o, "${PORTSDIR}/")
	o = strings.TrimPrefix(o, "$(PORTSDIR)/")
	if !strings.HasPrefix(o, "/") {
		return path.Clean(o)
	}
	if portsDir != "" {
		pd := strings.TrimSuffix(path.Clean(portsDir), "/") + "/"
		if strings.HasPrefix(o, pd) {
			return path.Clean(strings.TrimPrefix(o, pd))
		}
	}
	// Another absolute ports directory: keep category/port.
	c := path.Clean(o)
	port := path.Base(c)
	cat := path.Base(path.Dir(c))
	return cat + "/" + port
}
