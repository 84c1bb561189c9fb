package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-dsynth/dsynth/record"
)

func init() {
	register(&command{
		name:     "logs",
		synopsis: "Print (and follow) the build log of a port or of a build attempt",
		usage:    "dsynth logs [-f] [-records FILE | -profile-file PROFILE.hcl] ORIGIN[@FLAVOR]|BUILD_ID",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var rf recordsFlags
			rf.register(fs)
			follow := fs.Bool("f", false, "follow the log while the port builds")
			return func(args []string) error {
				arg, err := oneArg(args, "a port origin or a build attempt ID")
				if err != nil {
					return err
				}
				return runLogs(&rf, arg, *follow)
			}
		},
	})
}

// findAttempt returns the latest attempt of an origin (node) with a log, or
// the attempt with that ID.
func findAttempt(db *record.DB, arg string) (*record.Attempt, error) {
	if strings.Contains(arg, "/") {
		h, err := db.History(arg)
		if err != nil {
			return nil, err
		}
		for i := len(h) - 1; i >= 0; i-- {
			if h[i].LogPath != "" {
				return h[i], nil
			}
		}
		return nil, fmt.Errorf("no build log recorded for %s", arg)
	}
	a, err := db.Attempt(arg)
	if errors.Is(err, record.ErrNotFound) {
		return nil, fmt.Errorf("no build attempt %s (give a port origin or an attempt ID from `dsynth history`)", arg)
	}
	return a, err
}

func runLogs(rf *recordsFlags, arg string, follow bool) error {
	var a *record.Attempt
	err := withRecords(rf, func(db *record.DB) error {
		var err error
		a, err = findAttempt(db, arg)
		return err
	})
	if err != nil {
		return err
	}
	if a.LogPath == "" {
		return fmt.Errorf("attempt %s of %s has no log (%s)", a.ID, a.NodeID, a.Status)
	}
	f, err := os.Open(a.LogPath)
	if err != nil {
		return fmt.Errorf("log of %s: %w", a.NodeID, err)
	}
	defer f.Close()
	if _, err := io.Copy(stdout, f); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Follow while the attempt is building: poll the file, and the records
	// now and then to see whether the build ended.
	lastCheck := time.Now()
	for {
		n, err := io.Copy(stdout, f)
		if err != nil {
			return err
		}
		if n == 0 && time.Since(lastCheck) > time.Second {
			lastCheck = time.Now()
			var cur *record.Attempt
			var run *record.Run
			if err := withRecords(rf, func(db *record.DB) error {
				var err error
				if cur, err = db.Attempt(a.ID); err != nil {
					return err
				}
				run, err = db.Run(a.RunID)
				return err
			}); err != nil {
				return err
			}
			if cur.Status != record.AttemptBuilding || run.Status != record.RunRunning {
				_, err := io.Copy(stdout, f)
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}
