package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

func init() {
	register(&command{
		name:     "init",
		synopsis: "Write a commented starter profile for this host (refuses to overwrite)",
		usage:    "dsynth init [-ports DIR] [-build-base DIR] [-name NAME] [FILE.hcl]",
		flags: func(fs *flag.FlagSet) func([]string) error {
			ports := fs.String("ports", "", "ports tree `DIR` (default: /usr/dports on DragonFly, /usr/ports elsewhere)")
			base := fs.String("build-base", "/build/dsynth", "build base `DIR` (slots, packages, logs, records)")
			name := fs.String("name", "default", "profile `NAME`")
			return func(args []string) error {
				if len(args) > 1 {
					return fmt.Errorf("expected at most one argument, the profile file to write")
				}
				file := "dsynth.hcl"
				if len(args) == 1 {
					file = args[0]
				}
				if *ports == "" {
					*ports = "/usr/ports"
					if runtime.GOOS == "dragonfly" {
						*ports = "/usr/dports"
					}
				}
				for _, p := range []struct{ what, v string }{{"-ports", *ports}, {"-build-base", *base}} {
					if !filepath.IsAbs(p.v) || strings.ContainsAny(p.v, "\"\\$\n") {
						return fmt.Errorf("%s %q: want an absolute path without quotes, backslashes or $", p.what, p.v)
					}
				}
				if *name == "" || strings.ContainsAny(*name, "\"\\$\n") {
					return fmt.Errorf("-name %q: want a plain name", *name)
				}
				text := starterProfile(*name, *ports, *base, runtime.NumCPU())
				f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if errors.Is(err, os.ErrExist) {
					return fmt.Errorf("%s already exists: dsynth init never overwrites a profile (name another file)", file)
				}
				if err != nil {
					return err
				}
				if _, err := f.WriteString(text); err != nil {
					f.Close()
					os.Remove(file)
					return fmt.Errorf("write %s: %w", file, err)
				}
				if err := f.Close(); err != nil {
					os.Remove(file)
					return fmt.Errorf("write %s: %w", file, err)
				}
				fmt.Fprintf(stdout, "Wrote %s (profile %q, ports tree %s, build base %s). Check it with `dsynth validate %s`.\n",
					file, *name, *ports, *base, file)
				return nil
			}
		},
	})
}

// starterProfile is the commented profile `dsynth init` writes: workers
// from the CPU count, as C dsynth's defaults (CPUs/2 workers, 2 jobs each).
func starterProfile(name, ports, base string, cpus int) string {
	workers := max(1, cpus/2)
	jobs := max(1, min(cpus, 2))
	return fmt.Sprintf(`# dsynth profile written by dsynth init for a %d-CPU host.
# Check it with: dsynth validate FILE; plan with: dsynth plan -out build.plan FILE
# The language is described in docs/spec.md.

profile %q {
  # The ports tree (DragonFly DPorts or FreeBSD ports).
  ports_dir = %q
  # Slots, packages, distfiles, options, logs and the records database
  # live below it unless set here (packages_dir, distfiles_dir, ...).
  build_base = %q

  # What to build: origins (category/port or category/port@flavor), or
  # ["all"] for every flavor of every port.
  ports = ["ports-mgmt/pkg"]

  # Ports never built, even by "all" (origins and category/* globs).
  # exclude = ["www/chromium"]

  workers {
    count    = %d    # parallel builds ("auto": CPUs/2+1)
    max_jobs = %d    # MAKE_JOBS_NUMBER of each build
    # idle_timeout = "2h"  # default: per-phase watchdogs
  }

  environment {
    # network = "fetch" gives the fetch phases the network; "none" nothing.
    network = "fetch"
  }

  # Programs run on this host at run and port events (see docs/spec.md).
  # hooks {
  #   run_end = "/usr/local/etc/dsynth/hook_run_end"
  # }
}
`, cpus, name, ports, base, workers, jobs)
}
