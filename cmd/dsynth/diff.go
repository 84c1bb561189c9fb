package main

import (
	"flag"
	"fmt"

	"github.com/go-dsynth/dsynth/plan/rundiff"
	"github.com/go-dsynth/dsynth/record"
)

func init() {
	register(&command{
		name:     "diff",
		synopsis: "Explain what changed between two runs: ports, inputs, outcomes, packages",
		usage:    "dsynth diff [-json] [-records FILE | -profile-file PROFILE.hcl] RUN_A RUN_B",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var rf recordsFlags
			rf.register(fs)
			jsonOut := fs.Bool("json", false, "print the comparison as JSON")
			return func(args []string) error {
				if len(args) != 2 {
					return fmt.Errorf("expected two run IDs (an ID, a unique prefix of one, or \"last\"), flags before them")
				}
				return withRecords(&rf, func(db *record.DB) error {
					a, err := rundiff.Load(db, args[0])
					if err != nil {
						return err
					}
					b, err := rundiff.Load(db, args[1])
					if err != nil {
						return err
					}
					d := rundiff.Compare(a, b)
					if *jsonOut {
						return rundiff.RenderJSON(stdout, d)
					}
					return rundiff.RenderHuman(stdout, d)
				})
			}
		},
	})
}
