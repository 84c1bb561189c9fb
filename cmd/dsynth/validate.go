package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/go-dsynth/dsynth/spec"
)

func init() {
	register(&command{
		name:     "validate",
		synopsis: "Check a profile and print a summary (or the resolved profile as JSON)",
		usage:    "dsynth validate [-profile NAME] [-var NAME=VALUE]... [-var-file FILE]... [-json] PROFILE.hcl",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var pf profileFlags
			pf.register(fs)
			asJSON := fs.Bool("json", false, "print the resolved profile (every default filled, every path absolute) as JSON")
			return func(args []string) error {
				path, err := oneArg(args, "the profile file")
				if err != nil {
					return err
				}
				l, err := pf.load(path)
				if err != nil {
					return err
				}
				p := l.Profile
				if *asJSON {
					b, err := json.MarshalIndent(p, "", "  ")
					if err != nil {
						return fmt.Errorf("encode profile: %w", err)
					}
					fmt.Fprintf(stdout, "%s\n", b)
					return nil
				}
				fmt.Fprintf(stdout, "Success! Profile %q is valid: %s%s.\n", p.Name, targetSummary(p.Targets), envSummary(p.EnvRead))
				return nil
			}
		},
	})
}

// envSummary names the host environment variables the profile read with
// env(): their values are part of what a plan pins.
func envSummary(read map[string]string) string {
	if len(read) == 0 {
		return ""
	}
	return "; it reads the environment variables " + strings.Join(slices.Sorted(maps.Keys(read)), ", ") + " (pinned by a plan)"
}

// targetSummary describes a profile's targets for humans.
func targetSummary(targets []string) string {
	switch {
	case len(targets) == 1 && targets[0] == spec.AllPorts:
		return "all ports of the tree"
	case len(targets) == 1:
		return "1 target port"
	}
	return fmt.Sprintf("%d target ports", len(targets))
}
