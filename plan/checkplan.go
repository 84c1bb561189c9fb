package plan

import (
	"fmt"
	"strings"

	"github.com/go-dsynth/dsynth/plan/portscan"
	"github.com/go-dsynth/dsynth/spec"
)

// CheckSettings verifies what a decoded plan tells apply to do beyond its
// graph: its profile passes every rule of `dsynth validate` (spec.Check),
// its variables are variable names, and its nodes have the names a
// planner gives (origin, id, package file and name). A plan can be edited
// and digested again, so this runs whatever the digest says. Problems are
// named by their field in the plan file.
func CheckSettings(p *Plan) []string {
	var probs []string
	add := func(prefix string, err error) {
		if err == nil {
			return
		}
		if ps := spec.Problems(err); len(ps) > 0 {
			for _, pr := range ps {
				probs = append(probs, prefix+pr.Error())
			}
			return
		}
		probs = append(probs, prefix+err.Error())
	}
	add("profile.", spec.Check(p.Settings.Profile()))
	add("", spec.CheckVars("environment.vars", "vars", p.Environment.Vars))
	for i := range p.Ports {
		n := &p.Ports[i]
		field := fmt.Sprintf("ports[%q]", n.ID)
		id := (&portscan.Port{Origin: n.Origin, Flavor: n.Flavor}).ID()
		switch {
		case spec.CheckOrigin(n.Origin) != nil || strings.Contains(n.Origin, "@"):
			add("", fmt.Errorf("%s.origin: Invalid origin: %q is not a port origin: want category/port", field, n.Origin))
		case spec.CheckOrigin(id) != nil:
			add("", fmt.Errorf("%s.flavor: %q is not a flavor name", field, n.Flavor))
		case id != n.ID:
			add("", fmt.Errorf("%s.id: the id of %s is %s, not %s", field, id, id, n.ID))
		}
		if n.PkgFile != "" && !packageFileName(n.PkgFile) {
			add("", fmt.Errorf("%s.pkgfile: %q is not a package file name (a name in packages_dir/All: no slash, no leading dot, no control character)", field, n.PkgFile))
		}
		if n.Action == ActionFailed && n.PkgName == "" && n.Version == "" {
			// A port that could not be planned has no names (its reason
			// says why); its dependents are skipped.
		} else if err := checkPackageNames(map[string]string{"PKGNAME": n.PkgName, "PKGVERSION": n.Version}); err != nil {
			sub := "pkgname"
			if strings.HasPrefix(err.Error(), "PKGVERSION") {
				sub = "version"
			}
			add("", fmt.Errorf("%s.%s: %w", field, sub, err))
		}
		add("", spec.CheckVars(field+".make_env", "make_env", n.MakeEnv))
		add("", spec.CheckVars(field+".options_env", "options_env", n.OptionsEnv))
	}
	return probs
}

// packageFileName reports whether s can be a file in packages_dir/All.
func packageFileName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.HasPrefix(s, ".") && !strings.ContainsAny(s, "/\\\x7f") &&
		strings.IndexFunc(s, func(r rune) bool { return r < 0x20 }) < 0
}
