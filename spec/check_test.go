package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckValidFixtures: every valid profile file, once resolved, passes
// Check.
func TestCheckValidFixtures(t *testing.T) {
	for _, f := range fixtureFiles(t, "valid") {
		l, diags := Load(f, fixtureOpts(t, f))
		if diags.HasErrors() {
			t.Fatalf("%s: %v", f, diags)
		}
		if err := Check(l.Profile); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestCheckSameRulesAsValidate: a resolved profile edited to break a rule
// is refused by Check with the field and the words Load uses for the same
// mistake in a profile file.
func TestCheckSameRulesAsValidate(t *testing.T) {
	full := filepath.Join(fixtures, "valid", "full.hcl")
	for _, c := range []struct {
		name, field, hcl string // hcl: the same mistake in a profile file (replacing "ports_dir =")
		edit             func(p *Profile)
	}{
		{"workers", "workers.count", `workers { count = 100000 }` + "\n ports_dir =", func(p *Profile) { p.Workers.Count = 100000 }},
		{"no workers", "workers.count", `workers { count = 0 }` + "\n ports_dir =", func(p *Profile) { p.Workers.Count = 0 }},
		{"max jobs", "workers.max_jobs", `workers { max_jobs = 5000 }` + "\n ports_dir =", func(p *Profile) { p.Workers.MaxJobs = 5000 }},
		{"nice", "workers.nice", `workers { nice = -21 }` + "\n ports_dir =", func(p *Profile) { p.Workers.Nice = -21 }},
		{"root packages", "packages_dir", `packages_dir = "/"` + "\n ports_dir =", func(p *Profile) { p.PackagesDir = "/" }},
		{"root build base", "build_base", "", func(p *Profile) { p.BuildBase = "/" }},
		{"empty records", "records", `records = ""` + "\n ports_dir =", func(p *Profile) { p.Records = "" }},
		{"network", "environment.network", `environment { network = "host" }` + "\n ports_dir =", func(p *Profile) { p.Environment.Network = "host" }},
		{"isolation", "environment.isolation", `environment { isolation = "none" }` + "\n ports_dir =", func(p *Profile) { p.Environment.Isolation = "none" }},
		{"suffix", "package_suffix", `package_suffix = ".exe"` + "\n ports_dir =", func(p *Profile) { p.PackageSuffix = ".exe" }},
		{"make command", "make_command", `make_command = " "` + "\n ports_dir =", func(p *Profile) { p.MakeCommand = " " }},
		{"reserved mount", `environment.mount["/packages/x"]`, `environment {` + "\n" + `mount "/packages/x" {}` + "\n}\n ports_dir =",
			func(p *Profile) { p.Environment.Mounts = []Mount{{Target: "/packages/x", Source: "/x"}} }},
		{"root mount", `environment.mount["/"]`, `environment {` + "\n" + `mount "/" {}` + "\n}\n ports_dir =",
			func(p *Profile) { p.Environment.Mounts = []Mount{{Target: "/", Source: "/x"}} }},
		{"relative mount", `environment.mount["usr/src"]`, `environment {` + "\n" + `mount "usr/src" {}` + "\n}\n ports_dir =",
			func(p *Profile) { p.Environment.Mounts = []Mount{{Target: "usr/src", Source: "/x"}} }},
		{"make_conf name", "make_conf", `make_conf = { "A B" = "1" }` + "\n ports_dir =", func(p *Profile) { p.MakeConf["A B"] = "1" }},
		{"env NUL", "environment.env", `environment { env = { X = "a\u0000b" } }` + "\n ports_dir =", func(p *Profile) { p.Environment.Env["X"] = "a\x00b" }},
		{"target", "ports", `ports = ["../etc"]` + "\n ports_dir =", func(p *Profile) { p.Targets = []string{"../etc"} }},
		{"port block", `ports["nope"]`, `port "nope" {}` + "\n ports_dir =", func(p *Profile) { p.Ports["nope"] = PortSettings{} }},
		{"option", `ports["misc/hello"].options_set`, `port "misc/hello" { options_set = ["A-B"] }` + "\n ports_dir =",
			func(p *Profile) { p.Ports["misc/hello"] = PortSettings{OptionsSet: []string{"A-B"}} }},
		{"option twice", `ports["misc/hello"].options_unset`, `port "misc/hello" {` + "\n" + `options_set = ["A"]` + "\n" + `options_unset = ["A"]` + "\n}\n ports_dir =",
			func(p *Profile) {
				p.Ports["misc/hello"] = PortSettings{OptionsSet: []string{"A"}, OptionsUnset: []string{"A"}}
			}},
		{"negative size", "workers.tmpfs_work", "", func(p *Profile) { p.Workers.TmpfsWork = -1 }},
		{"negative timeout", "workers.phase_timeout", "", func(p *Profile) { p.Workers.PhaseTimeout = -time.Second }},
		{"relative path", "ports_dir", "", func(p *Profile) { p.PortsDir = "ports" }},
		{"unclean path", "logs_dir", "", func(p *Profile) { p.LogsDir = "/b/../../logs" }},
		{"no targets", "ports", "", func(p *Profile) { p.Targets = nil }},
	} {
		l, diags := Load(full, fixtureOpts(t, full))
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		p := l.Profile
		c.edit(p)
		err := Check(p)
		probs := Problems(err)
		if len(probs) != 1 || probs[0].Field != c.field || !strings.HasPrefix(err.Error(), c.field+": ") {
			t.Errorf("%s: %v (%d problems), want one naming %s", c.name, err, len(probs), c.field)
			continue
		}
		var pr *Problem
		if !errors.As(err, &pr) {
			t.Errorf("%s: %T is not a *Problem", c.name, err)
		}
		if c.hcl == "" {
			continue
		}
		// The same mistake in a profile file: the same words.
		dir := t.TempDir()
		f := filepath.Join(dir, "p.hcl")
		ports := `ports = ["misc/hello"]`
		if strings.HasPrefix(c.hcl, "ports =") {
			ports = ""
		}
		writeFile(t, f, `profile "p" {
  `+c.hcl+` "/ports"
  build_base = "/b"
  `+ports+`
}
`)
		_, diags = Load(f, Options{CPUs: 4, GOOS: "linux"})
		found := false
		for _, d := range diags {
			found = found || (d.Summary == probs[0].Summary && d.Detail == probs[0].Detail)
		}
		if !found {
			t.Errorf("%s: validate says %v, Check says %s: %s", c.name, diags, probs[0].Summary, probs[0].Detail)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
