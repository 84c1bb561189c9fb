package spec

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The rules of a profile, shared by the HCL decoder (Load, which reports a
// broken rule as a diagnostic at its position) and by Check (which applies
// them to a resolved profile, such as the one a plan file embeds). Each
// returns nil or the broken rule, with the words `dsynth validate` prints.

// Rule is a broken rule: the summary and detail of its diagnostic.
type Rule struct {
	Summary string
	Detail  string
}

func rulef(summary, format string, args ...any) *Rule {
	return &Rule{Summary: summary, Detail: fmt.Sprintf(format, args...)}
}

// rangeRule: an integer attribute between lo and hi; got is the value as
// written.
func rangeRule(name string, n, lo, hi int64, got string) *Rule {
	if n < lo || n > hi {
		return rulef("Value out of range", "%s must be between %d and %d, got %s.", name, lo, hi, got)
	}
	return nil
}

// emptyPathRule: a path attribute is not empty.
func emptyPathRule(name, s string) *Rule {
	if strings.TrimSpace(s) == "" {
		return rulef("Invalid path", "%s must not be empty.", name)
	}
	return nil
}

// rootPaths are the attributes naming what dsynth writes (or scans whole):
// none may be the root folder (packages_dir = "/" wrote /All/*.pkg).
var rootPaths = []string{"ports_dir", "build_base", "packages_dir", "distfiles_dir", "options_dir", "logs_dir", "records"}

// rootPathRule: a resolved path attribute of rootPaths is not "/".
func rootPathRule(name, resolved string) *Rule {
	if resolved == "/" && slices.Contains(rootPaths, name) {
		return rulef("Invalid path", `%s must not be the root folder "/": dsynth writes or reads everything below it.`, name)
	}
	return nil
}

// enumRule: s is one of allowed.
func enumRule(name, s string, allowed []string, what string) *Rule {
	if slices.Contains(allowed, s) {
		return nil
	}
	return rulef("Invalid "+what, "%q is not a valid %s for %s; use one of: %s.", s, what, name, quoteList(allowed))
}

// makeCommandRule: make_command is not empty.
func makeCommandRule(s string) *Rule {
	if strings.TrimSpace(s) == "" {
		return rulef("Invalid make command", "make_command must not be empty.")
	}
	return nil
}

// varRule: an entry of make_conf, make_env or environment.env (they
// become make or environment variables).
func varRule(name, k, v string) *Rule {
	if !varName.MatchString(k) {
		return rulef("Invalid variable name",
			"%s[%q]: a variable name is letters, digits, _ . and - (not starting with a digit or -).", name, k)
	}
	if strings.ContainsRune(v, 0) {
		return rulef("Invalid variable value", "%s[%q] contains a NUL byte.", name, k)
	}
	return nil
}

// optionRule: an option name of options_set or options_unset.
func optionRule(o string) *Rule {
	if !optionRE.MatchString(o) {
		return rulef("Invalid option name",
			"%q is not an option name: use letters, digits and underscores (e.g. DOCS, PYTHON).", o)
	}
	return nil
}

func optionBothRule(o, origin string) *Rule {
	return rulef("Option both set and unset", "Option %q is in options_set and options_unset of port %q.", o, origin)
}

// portBlockRule: the origin of a port block.
func portBlockRule(origin string) *Rule {
	if err := CheckOrigin(origin); err != nil {
		return rulef("Invalid origin", "%v.", err)
	}
	return nil
}

// targetRule: an element of ports.
func targetRule(o string) *Rule {
	if o == AllPorts {
		return nil
	}
	if err := CheckOrigin(o); err != nil {
		return rulef("Invalid origin", "%v (or \"all\" for the whole tree).", err)
	}
	return nil
}

func noPortsRule(profile string) *Rule {
	return rulef("No ports to build",
		`Profile %q selects no port: set ports, ports_file, a port block, or ports = ["all"].`, profile)
}

// mountTargetRule: a mount target is absolute and not one of the slot's
// own mount points; it returns the cleaned target.
func mountTargetRule(target string) (string, *Rule) {
	if !strings.HasPrefix(target, "/") {
		return target, rulef("Invalid mount target", "The mount target %q must be an absolute path inside the slot.", target)
	}
	target = filepath.Clean(target)
	if reason := reservedMount(target); reason != "" {
		return target, rulef("Invalid mount target", "%s", reason)
	}
	return target, nil
}

// sizeRule: a size in bytes (as ParseSize reads them).
func sizeRule(name string, n int64) *Rule {
	if _, err := ParseSize(strconv.FormatInt(n, 10)); err != nil {
		return rulef("Invalid size", "%s: %v.", name, err)
	}
	return nil
}

// durationRule: a duration (as ParseDuration reads them).
func durationRule(name string, d time.Duration) *Rule {
	if _, err := ParseDuration(d.String()); err != nil {
		return rulef("Invalid duration", "%s: %v.", name, err)
	}
	return nil
}
