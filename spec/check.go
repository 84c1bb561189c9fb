package spec

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Problem is a rule a resolved profile breaks, with the field it names
// (as in the profile file: "workers.count", `ports["devel/foo"].options_set`,
// `environment.mount["/usr/src"].source`).
type Problem struct {
	Field string
	Rule
}

func (p *Problem) Error() string {
	return p.Field + ": " + p.Summary + ": " + p.Detail
}

// Check applies the rules `dsynth validate` applies to a profile file
// (ranges, path rules, mount rules, names; with the same words) to an
// already resolved profile, such as the one a plan file embeds: a plan
// can be edited and its digest recomputed, so what it says is checked
// like a profile. A resolved profile also holds absolute, clean paths
// only, and its mounts are sorted and distinct. It returns nil or an
// error joining every *Problem found, in field order.
func Check(p *Profile) error {
	var c checker
	paths := []struct {
		name, v  string
		optional bool
	}{
		{"ports_dir", p.PortsDir, false}, {"build_base", p.BuildBase, false},
		{"packages_dir", p.PackagesDir, false}, {"distfiles_dir", p.DistfilesDir, false},
		{"options_dir", p.OptionsDir, false}, {"logs_dir", p.LogsDir, false},
		{"records", p.Records, false}, {"system_dir", p.SystemDir, false},
		{"ports_file", p.PortsFile, true},
	}
	for _, f := range paths {
		if f.optional && f.v == "" {
			continue
		}
		c.path(f.name, f.name, f.v)
	}
	c.add("package_suffix", enumRule("package_suffix", p.PackageSuffix, PackageSuffixes, "package suffix"))
	c.add("make_command", makeCommandRule(p.MakeCommand))
	c.vars("make_conf", "make_conf", p.MakeConf)

	if len(p.Targets) == 0 {
		c.add("ports", noPortsRule(p.Name))
	}
	for _, o := range p.Targets {
		c.add("ports", targetRule(o))
	}
	for _, origin := range sortedKeys(p.Ports) {
		ps := p.Ports[origin]
		field := fmt.Sprintf("ports[%q]", origin)
		c.add(field, portBlockRule(origin))
		set := map[string]bool{}
		for _, o := range ps.OptionsSet {
			c.add(field+".options_set", optionRule(o))
			set[o] = true
		}
		for _, o := range ps.OptionsUnset {
			c.add(field+".options_unset", optionRule(o))
			if set[o] {
				c.add(field+".options_unset", optionBothRule(o, origin))
			}
		}
		c.vars(field+".make_env", "make_env", ps.MakeEnv)
	}

	w := p.Workers
	c.add("workers.count", rangeRule("count", int64(w.Count), 1, MaxWorkers, fmt.Sprint(w.Count)))
	c.add("workers.max_jobs", rangeRule("max_jobs", int64(w.MaxJobs), 1, MaxJobsLimit, fmt.Sprint(w.MaxJobs)))
	c.add("workers.nice", rangeRule("nice", int64(w.Nice), -20, 20, fmt.Sprint(w.Nice)))
	c.add("workers.tmpfs_work", sizeRule("tmpfs_work", w.TmpfsWork))
	c.add("workers.tmpfs_localbase", sizeRule("tmpfs_localbase", w.TmpfsLocalbase))
	c.add("workers.phase_timeout", durationRule("phase_timeout", w.PhaseTimeout))
	c.add("workers.idle_timeout", durationRule("idle_timeout", w.IdleTimeout))

	e := p.Environment
	c.add("environment.isolation", enumRule("isolation", e.Isolation, Isolations, "isolation"))
	c.add("environment.network", enumRule("network", e.Network, Networks, "network mode"))
	c.vars("environment.env", "env", e.Env)
	seen := map[string]bool{}
	for i, m := range e.Mounts {
		field := fmt.Sprintf("environment.mount[%q]", m.Target)
		target, r := mountTargetRule(m.Target)
		switch {
		case r != nil:
			c.add(field, r)
		case target != m.Target:
			c.add(field, rulef("Invalid mount target", "The mount target %q is not clean (%q).", m.Target, target))
		case seen[target]:
			c.add(field, rulef("Duplicate mount block", "%q is mounted twice.", target))
		case i > 0 && e.Mounts[i-1].Target > target:
			c.add(field, rulef("Invalid mount target", "The mounts are not sorted by target (%q after %q).", target, e.Mounts[i-1].Target))
		}
		seen[target] = true
		c.path(field+".source", "source", m.Source)
	}
	return c.err()
}

// Problems returns the *Problem values joined in an error of Check.
func Problems(err error) []*Problem {
	var out []*Problem
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	var p *Problem
	if errors.As(err, &p) {
		out = append(out, p)
	}
	return out
}

type checker struct{ probs []*Problem }

func (c *checker) err() error {
	if len(c.probs) == 0 {
		return nil
	}
	errs := make([]error, len(c.probs))
	for i, p := range c.probs {
		errs[i] = p
	}
	return errors.Join(errs...)
}

func (c *checker) add(field string, r *Rule) {
	if r != nil {
		c.probs = append(c.probs, &Problem{Field: field, Rule: *r})
	}
}

// path checks a resolved path: not empty, not the root for what dsynth
// writes, absolute and clean.
func (c *checker) path(field, name, v string) {
	if r := emptyPathRule(name, v); r != nil {
		c.add(field, r)
		return
	}
	if !filepath.IsAbs(v) || filepath.Clean(v) != v || strings.ContainsRune(v, 0) {
		c.add(field, rulef("Invalid path", "%s must be an absolute, clean path in a resolved profile, got %q.", name, v))
		return
	}
	c.add(field, rootPathRule(name, v))
}

func (c *checker) vars(field, name string, m map[string]string) {
	for _, k := range sortedKeys(m) {
		c.add(field, varRule(name, k, m[k]))
	}
}

// CheckVars applies the rule of make_conf, make_env and environment.env
// entries (variable names, no NUL byte) to m, for the variables a plan
// carries besides its profile; field names m in the problems, name is the
// attribute the message quotes.
func CheckVars(field, name string, m map[string]string) error {
	var c checker
	c.vars(field, name, m)
	return c.err()
}
