package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/go-dsynth/dsynth/record"
)

func init() {
	register(&command{
		name:     "stats",
		synopsis: "Summarise recorded builds: success rate, build times, pkgs/hour, slowest ports",
		usage:    "dsynth stats [-json] [-since DURATION] [-top N] [-records FILE | -profile-file PROFILE.hcl]",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var rf recordsFlags
			rf.register(fs)
			jsonOut := fs.Bool("json", false, "print JSON")
			since := fs.Duration("since", 0, "only attempts and runs of the last `DURATION` (e.g. 24h)")
			top := fs.Int("top", 5, "list the `N` slowest ports")
			return func(args []string) error {
				if len(args) != 0 {
					return fmt.Errorf("unexpected argument %q", args[0])
				}
				var from time.Time
				if *since > 0 {
					from = time.Now().Add(-*since)
				}
				return withRecords(&rf, func(db *record.DB) error {
					runs, err := db.Runs()
					if err != nil {
						return err
					}
					atts, err := db.AttemptsSince(from)
					if err != nil {
						return err
					}
					s := record.ComputeStats(runs, atts, from, *top)
					if *jsonOut {
						enc := json.NewEncoder(stdout)
						enc.SetIndent("", "  ")
						return enc.Encode(s)
					}
					printStats(s)
					return nil
				})
			}
		},
	})
}

func printStats(s record.Stats) {
	w := stdout
	if !s.Since.IsZero() {
		fmt.Fprintf(w, "Since %s\n", s.Since.Local().Format("2006-01-02 15:04:05"))
	}
	fmt.Fprintf(w, "Runs:          %d\n", s.Runs)
	fmt.Fprintf(w, "Attempts:      %d (%d succeeded, %d failed, %d skipped, %d ignored)\n", s.Attempts, s.Success, s.Failed, s.Skipped, s.Ignored)
	fmt.Fprintf(w, "Success rate:  %.1f%%\n", 100*s.SuccessRate)
	fmt.Fprintf(w, "Build time:    %s total, %s average\n", fmtDur(s.TotalBuild), fmtDur(s.AverageBuild))
	fmt.Fprintf(w, "Throughput:    %.1f pkgs/hour of run time\n", s.PkgsPerHour)
	if s.Busiest != nil {
		fmt.Fprintf(w, "Busiest worker: %d (%d builds, %s busy)\n", s.Busiest.Worker, s.Busiest.Builds, fmtDur(s.Busiest.Busy))
	}
	if len(s.Slowest) > 0 {
		fmt.Fprintf(w, "Slowest ports:\n")
		for _, p := range s.Slowest {
			fmt.Fprintf(w, "  %-40s %10s  %s\n", p.NodeID, fmtDur(p.Duration), p.Status)
		}
	}
}
