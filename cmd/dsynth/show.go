package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
)

func init() {
	register(&command{
		name:     "show",
		synopsis: "Show a saved plan file, or a recorded run: plan versus actual",
		usage:    "dsynth show [-json] [-records FILE | -profile-file PROFILE.hcl] PLANFILE|RUN_ID|last",
		flags: func(fs *flag.FlagSet) func([]string) error {
			jsonOut := fs.Bool("json", false, "print JSON instead of text")
			var rf recordsFlags
			rf.register(fs)
			return func(args []string) error {
				arg, err := oneArg(args, "a plan file, a run ID or last")
				if err != nil {
					return err
				}
				return runShow(arg, *jsonOut, &rf)
			}
		},
	})
}

// runIDLike matches what names a run: last, or a run ID or its prefix.
var runIDLike = regexp.MustCompile(`^(last|[0-9a-f][0-9a-f-]{3,35})$`)

func runShow(arg string, jsonOut bool, rf *recordsFlags) error {
	// A file is read as a plan (and a file that is not one is said to be
	// so), unless it is not a plan and its name reads as a run ID.
	if _, err := os.Stat(arg); err != nil {
		return showRun(arg, jsonOut, rf)
	}
	if !planfile.IsPlanFile(arg) && runIDLike.MatchString(arg) {
		return showRun(arg, jsonOut, rf)
	}
	f, err := planfile.Read(arg)
	if err != nil {
		return err
	}
	if jsonOut {
		_, err := stdout.Write(f.Bytes())
		return err
	}
	p := f.Plan()
	fmt.Fprintf(stdout, "Plan %s (dsynth %s, profile %q, tree %s)\n\n", p.Digest[:12], p.DsynthVersion, p.Settings.Name, p.Tree.Path)
	return plan.RenderHuman(stdout, p)
}
