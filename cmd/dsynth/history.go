package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/go-dsynth/dsynth/record"
)

func init() {
	register(&command{
		name:     "history",
		synopsis: "List every recorded build attempt of a port",
		usage:    "dsynth history [-json] [-records FILE | -profile-file PROFILE.hcl] ORIGIN[@FLAVOR]",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var rf recordsFlags
			rf.register(fs)
			jsonOut := fs.Bool("json", false, "print JSON")
			return func(args []string) error {
				origin, err := oneArg(args, "the port origin")
				if err != nil {
					return err
				}
				return withRecords(&rf, func(db *record.DB) error {
					atts, err := db.History(origin)
					if err != nil {
						return err
					}
					return printHistory(origin, atts, *jsonOut)
				})
			}
		},
	})
}

func printHistory(origin string, atts []*record.Attempt, jsonOut bool) error {
	if jsonOut {
		if atts == nil {
			atts = []*record.Attempt{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(atts)
	}
	if len(atts) == 0 {
		fmt.Fprintf(stdout, "No build attempts recorded for %s.\n", origin)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ATTEMPT\tRUN\tSTARTED\tNODE\tVERSION\tSTATUS\tDURATION\tINPUT KEY\tSHA-256\tDETAIL")
	for _, a := range atts {
		started := "-"
		if !a.Start.IsZero() {
			started = a.Start.Local().Format("2006-01-02 15:04:05")
		}
		detail := a.Error
		if a.Status == record.AttemptFailed {
			detail = "phase " + a.LastPhase + ": " + a.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", short(a.ID), short(a.RunID), started, a.NodeID,
			a.Version, a.Status, fmtDur(a.Duration()), short12(a.InputKey), short12(a.SHA256), detail)
	}
	return tw.Flush()
}

func short12(s string) string {
	if s == "" {
		return "-"
	}
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
