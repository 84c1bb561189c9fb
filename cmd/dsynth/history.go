package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/go-dsynth/dsynth/record"
)

func init() {
	register(&command{
		name:     "history",
		synopsis: "List every recorded build attempt of a port, or the recorded operations (repository, pkgclean, fetch, purge-distfiles)",
		usage:    "dsynth history [-json] [-records FILE | -profile-file PROFILE.hcl] ORIGIN[@FLAVOR]\n       dsynth history [-json] [-records FILE | -profile-file PROFILE.hcl] operations|repository|pkgclean|fetch|purge-distfiles",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var rf recordsFlags
			rf.register(fs)
			jsonOut := fs.Bool("json", false, "print JSON")
			return func(args []string) error {
				origin, err := oneArg(args, "the port origin, or operations")
				if err != nil {
					return err
				}
				if kind, ok := operationKinds[origin]; ok {
					return withRecords(&rf, func(db *record.DB) error {
						ops, err := db.Operations(kind)
						if err != nil {
							return err
						}
						return printOperations(origin, ops, *jsonOut)
					})
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

// operationKinds are the history arguments that list operations (an
// origin always has a slash): the kind, "" for every kind.
var operationKinds = map[string]string{"operations": "", record.OpRepository: record.OpRepository,
	record.OpPkgClean: record.OpPkgClean, record.OpFetch: record.OpFetch, record.OpPurgeDistfiles: record.OpPurgeDistfiles}

func printOperations(what string, ops []*record.Operation, jsonOut bool) error {
	if jsonOut {
		if ops == nil {
			ops = []*record.Operation{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ops)
	}
	if len(ops) == 0 {
		if what != "operations" {
			what += " operations"
		}
		fmt.Fprintf(stdout, "No %s recorded.\n", what)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tKIND\tSTATUS\tCOUNT\tBYTES\tDURATION\tRUN\tDETAIL")
	for _, op := range ops {
		run := op.RunID
		if run == "" {
			run = "-"
		} else {
			run = short(run)
		}
		detail := op.Path
		if op.Fingerprint != "" {
			detail += " signed sha256:" + short12(op.Fingerprint)
		}
		if op.Error != "" {
			detail = oneLineErr(op.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", op.Start.Local().Format("2006-01-02 15:04:05"), op.Kind, op.Status,
			op.Count, op.Bytes, fmtDur(op.End.Sub(op.Start)), run, detail)
	}
	return tw.Flush()
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
		if a.Host != "" {
			detail = strings.TrimSpace("on " + a.Host + " " + detail)
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
