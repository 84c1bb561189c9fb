package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"

	"github.com/go-dsynth/dsynth/plan"
)

// showOther renders a `dsynth show` argument that is not a plan file (a
// run ID or "last", once apply records runs). nil means only plan files
// are accepted.
var showOther func(arg string, jsonOut bool) error

func init() {
	register(&command{
		name:     "show",
		synopsis: "Show a saved plan file, or a recorded run: plan versus actual",
		usage:    "dsynth show [-json] PLANFILE|RUN_ID|last",
		flags: func(fs *flag.FlagSet) func([]string) error {
			jsonOut := fs.Bool("json", false, "print JSON instead of text")
			return func(args []string) error {
				arg, err := oneArg(args, "a plan file, a run ID or last")
				if err != nil {
					return err
				}
				return runShow(arg, *jsonOut)
			}
		},
	})
}

// runIDLike matches what names a run: last, or a run ID or its prefix.
var runIDLike = regexp.MustCompile(`^(last|[0-9a-f][0-9a-f-]{3,35})$`)

func runShow(arg string, jsonOut bool) error {
	// A file is read as a plan (and a file that is not one is said to be
	// so), unless it is not a plan and its name reads as a run ID.
	if _, err := os.Stat(arg); err != nil && showOther != nil {
		return showOther(arg, jsonOut)
	}
	if !plan.IsPlanFile(arg) && runIDLike.MatchString(arg) && showOther != nil {
		return showOther(arg, jsonOut)
	}
	p, err := plan.Read(arg)
	if err != nil {
		return err
	}
	if jsonOut {
		return plan.RenderJSON(stdout, p)
	}
	fmt.Fprintf(stdout, "Plan %s (dsynth %s, profile %q, tree %s)\n\n", p.Digest[:12], p.DsynthVersion, p.Profile.Name, p.Tree.Path)
	return plan.RenderHuman(stdout, p)
}
