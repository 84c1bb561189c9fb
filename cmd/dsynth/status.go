package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/record"
)

func init() {
	register(&command{
		name:     "status",
		synopsis: "Show the running apply (workers, their port and phase, counts) or the last run",
		usage:    "dsynth status [-json] [-records FILE] [-profile NAME] [-var K=V]... [PROFILE.hcl]",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var rf recordsFlags
			var pf profileFlags
			fs.StringVar(&rf.records, "records", "", "records database `FILE` (default: the profile's, $DSYNTH_RECORDS, or the one the last apply used)")
			pf.register(fs)
			jsonOut := fs.Bool("json", false, "print JSON")
			watch := fs.Bool("watch", false, "follow the run live (as C dsynth's monitor) until it ends")
			return func(args []string) error {
				if len(args) > 1 {
					return fmt.Errorf("expected at most one argument, the profile file")
				}
				if len(args) == 1 && rf.records == "" {
					l, err := pf.load(args[0])
					if err != nil {
						return err
					}
					rf.records = l.Profile.Records
				}
				if *watch {
					return watchStatus(&rf, *jsonOut)
				}
				_, err := runStatus(&rf, *jsonOut)
				return err
			}
		},
	})
}

// watchEvery bounds how long a watch waits for the status file to change
// before it redraws (a running apply touches it every 2 s).
const watchEvery = 2 * time.Second

// watchStatus shows the status again each time the live status file of
// the running apply changes, from any process on the machine, until no
// apply runs any more; then it shows the run's end and returns.
func watchStatus(rf *recordsFlags, jsonOut bool) error {
	for frame := 0; ; frame++ {
		if frame > 0 && !jsonOut {
			fmt.Fprintf(stdout, "\n--- %s\n", time.Now().Format("15:04:05"))
		}
		r, err := runStatus(rf, jsonOut)
		if err != nil {
			return err
		}
		if r == nil || r.Status != record.RunRunning {
			return nil
		}
		file := execute.StatusFile(r.BuildBase)
		fi0, _ := os.Stat(file)
		deadline := time.Now().Add(watchEvery)
		for time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			fi, err := os.Stat(file)
			if err != nil || fi0 == nil || !fi.ModTime().Equal(fi0.ModTime()) || fi.Size() != fi0.Size() {
				break
			}
		}
	}
}

type statusJSON struct {
	Run     *record.Run     `json:"run"`
	Live    *execute.Status `json:"live,omitempty"`
	Crashed []*record.Run   `json:"crashed,omitempty"`
	Cleaned []string        `json:"cleaned,omitempty"`
	// Unrecorded: the crashed runs could not be written (a full disk).
	Unrecorded bool `json:"unrecorded,omitempty"`
}

// runStatus shows the status once and returns the run it showed.
func runStatus(rf *recordsFlags, jsonOut bool) (*record.Run, error) {
	path, err := rf.path()
	if err != nil {
		return nil, err
	}
	var out statusJSON
	// Dead runs are marked crashed and their slots cleaned.
	var runs []*record.Run
	if err := withRecords(rf, func(db *record.DB) error {
		runs, err = db.Runs()
		return err
	}); err != nil {
		return nil, err
	}
	bases := map[string]bool{}
	for _, r := range runs {
		if r.Status == record.RunRunning {
			bases[r.BuildBase] = true
		}
	}
	for base := range bases {
		rcv, err := execute.Recover(path, base)
		if errors.Is(err, execute.ErrNotRecorded) {
			// A full disk: say what was found, record it later.
			fmt.Fprintf(stderr, "dsynth: warning: %v (the next status or apply with free space records it)\n", err)
			out.Unrecorded = true
		} else if err != nil {
			return nil, err
		}
		out.Crashed = append(out.Crashed, rcv.Crashed...)
		out.Cleaned = append(out.Cleaned, rcv.Cleaned...)
	}
	if err := withRecords(rf, func(db *record.DB) error {
		r, err := db.Run("last")
		if err != nil {
			return err
		}
		out.Run = r
		return nil
	}); err != nil {
		return nil, err
	}
	for _, c := range out.Crashed {
		if c.ID == out.Run.ID {
			out.Run = c // found crashed, even if not yet recorded so
		}
	}
	if out.Run.Status == record.RunRunning {
		if s, err := execute.ReadStatus(out.Run.BuildBase); err == nil && s.RunID == out.Run.ID {
			out.Live = s
		}
	}
	if jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return out.Run, enc.Encode(out)
	}
	for _, r := range out.Crashed {
		if out.Unrecorded {
			fmt.Fprintf(stdout, "Run %s (pid %d) died (not yet recorded: the disk is full).\n", r.ID, r.PID)
			continue
		}
		fmt.Fprintf(stdout, "Run %s (pid %d) died: marked crashed.\n", r.ID, r.PID)
	}
	for _, c := range out.Cleaned {
		fmt.Fprintf(stdout, "Cleanup: %s\n", c)
	}
	printRunStatus(out.Run, out.Live)
	return out.Run, nil
}

func printRunStatus(r *record.Run, live *execute.Status) {
	w := stdout
	c := r.Counts
	if r.Status == record.RunRunning {
		fmt.Fprintf(w, "Run %s is running (pid %d, profile %q, started %s, %s ago).\n", r.ID, r.PID, r.ProfileName,
			r.Start.Local().Format("15:04:05"), fmtDur(time.Since(r.Start)))
		if live != nil {
			c = live.Counts
			fmt.Fprintf(w, "Progress: %d/%d ports done: %d built, %d failed, %d skipped, %d ignored, %d up to date.\n",
				live.Done, live.Total, c.Built, c.Failed, c.Skipped, c.Ignored, c.UpToDate)
			if live.Throttle != "" {
				fmt.Fprintf(w, "Throttled: %s.\n", live.Throttle)
			}
			fmt.Fprintf(w, "Workers:\n")
			for _, ws := range live.Workers {
				if ws.Node == "" {
					fmt.Fprintf(w, "  %2d  idle\n", ws.Worker)
					continue
				}
				fmt.Fprintf(w, "  %2d  %-40s %-16s %s\n", ws.Worker, ws.Node, ws.Phase, fmtDur(time.Since(ws.Since)))
			}
		}
		return
	}
	fmt.Fprintf(w, "No apply is running. Last run %s (profile %q): %s, started %s, took %s.\n", r.ID, r.ProfileName, r.Status,
		r.Start.Local().Format("2006-01-02 15:04:05"), fmtDur(r.Duration()))
	fmt.Fprintf(w, "  %d planned: %d built, %d failed, %d skipped, %d ignored, %d up to date.\n",
		c.Planned, c.Built, c.Failed, c.Skipped, c.Ignored, c.UpToDate)
	if r.Error != "" {
		fmt.Fprintf(w, "  %s\n", r.Error)
	}
}
