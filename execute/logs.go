package execute

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/dsynth/record"
)

// Summary log names in logs_dir, as dsynth writes them.
const (
	LogLastResults = "00_last_results.log"
	LogSuccess     = "01_success_list.log"
	LogFailure     = "02_failure_list.log"
	LogIgnored     = "03_ignored_list.log"
	LogSkipped     = "04_skipped_list.log"
	LogAbnormal    = "05_abnormal_command_output.log"
	LogObsolete    = "06_obsolete_packages.log"
	LogDebug       = "07_debug.log"
)

// abnormalLog collects the run's warnings (hooks that failed, slots that
// could not be cleaned, crashed runs found, logs that could not be
// written) for 05_abnormal_command_output.log.
type abnormalLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *abnormalLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, time.Now().UTC().Format("15:04:05")+" "+oneLine(s))
}

func (l *abnormalLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// dsynthSteps are the steps dsynth runs itself around a port's make
// phases: their failures are abnormal command output, not a port's fault.
var dsynthSteps = map[string]bool{"setup": true, "install-pkg": true, "install-deps": true}

// openResults starts 00_last_results.log, which gets one line per
// finished port as the run goes.
func (a *applier) openResults() error {
	dir := a.p.Settings.LogsDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("logs dir: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, LogLastResults))
	if err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	fmt.Fprintf(f, "dsynth run %s, plan %s, profile %s, started %s, %d ports planned\n",
		a.run.ID, a.p.Digest, a.p.Settings.Name, a.run.Start.Format(time.RFC3339), len(a.p.Ports))
	a.lastRes = f
	return nil
}

func (a *applier) closeResults() {
	if a.lastRes != nil {
		a.lastRes.Close()
	}
}

func (a *applier) lastResult(at *record.Attempt) {
	if a.lastRes == nil {
		return
	}
	line := fmt.Sprintf("%s %-10s %s", time.Now().UTC().Format("15:04:05"), at.Status, at.NodeID)
	if at.Version != "" {
		line += "-" + at.Version
	}
	switch at.Status {
	case record.AttemptSuccess:
		line += fmt.Sprintf(" (%s)", at.Duration().Round(time.Millisecond))
	case record.AttemptFailed:
		line += " phase " + at.LastPhase + ": " + at.Error
	default:
		if at.Error != "" {
			line += ": " + at.Error
		}
	}
	fmt.Fprintln(a.lastRes, line)
}

// writeSummaryLogs writes 01..04 from the run's attempts.
func (a *applier) writeSummaryLogs() error {
	lists := map[string][]string{}
	for _, at := range a.allAttempts() {
		var name, line string
		switch at.Status {
		case record.AttemptSuccess:
			name, line = LogSuccess, at.NodeID+" "+at.Version
		case record.AttemptFailed:
			name, line = LogFailure, at.NodeID+" "+at.Version+" phase="+at.LastPhase+" "+at.Error
		case record.AttemptIgnored:
			name, line = LogIgnored, at.NodeID+" "+at.Version+" "+at.Error
		case record.AttemptSkipped:
			name, line = LogSkipped, at.NodeID+" "+at.Version+" "+at.Error
		default:
			continue
		}
		lists[name] = append(lists[name], line)
	}
	fmt.Fprintf(a.lastRes, "run %s ended %s: %s, built %d, failed %d, skipped %d, ignored %d, up to date %d\n",
		a.run.ID, a.run.End.Format(time.RFC3339), a.run.Status, a.run.Counts.Built, a.run.Counts.Failed,
		a.run.Counts.Skipped, a.run.Counts.Ignored, a.run.Counts.UpToDate)
	atts := a.allAttempts()
	sort.Slice(atts, func(i, j int) bool { return atts[i].Start.Before(atts[j].Start) })
	for _, at := range atts {
		if at.Status == record.AttemptFailed && (dsynthSteps[at.LastPhase] || strings.Contains(at.Error, "log disk full") ||
			strings.Contains(at.Error, "output folder")) {
			lists[LogAbnormal] = append(lists[LogAbnormal], fmt.Sprintf("%s phase=%s %s", at.NodeID, at.LastPhase, oneLine(at.Error)))
		}
		if at.Status == record.AttemptSuccess || at.Status == record.AttemptFailed || at.Status == record.AttemptInterrupted {
			line := fmt.Sprintf("%s %s worker=%d start=%s end=%s status=%s", at.NodeID, at.Version, at.Worker,
				at.Start.Format("15:04:05.000"), at.End.Format("15:04:05.000"), at.Status)
			for _, ph := range at.Phases {
				line += fmt.Sprintf(" %s=%s", ph.Name, ph.End.Sub(ph.Start).Round(time.Millisecond))
			}
			lists[LogDebug] = append(lists[LogDebug], line)
		}
	}
	if a.abnormal != nil {
		lists[LogAbnormal] = append(a.abnormal.all(), lists[LogAbnormal]...)
	}
	lists[LogObsolete] = a.obsoletePackages()
	for _, name := range []string{LogSuccess, LogFailure, LogIgnored, LogSkipped, LogAbnormal, LogObsolete, LogDebug} {
		l := lists[name]
		if name != LogAbnormal && name != LogDebug { // those keep time order
			sort.Strings(l)
		}
		body := strings.Join(l, "\n")
		if body != "" {
			body += "\n"
		}
		if name == LogObsolete && body != "" {
			body = "# packages in packages_dir/All that the tree no longer produces; `dsynth pkgclean -yes` removes them\n" + body
		}
		if err := os.WriteFile(filepath.Join(a.p.Settings.LogsDir, name), []byte(body), 0o644); err != nil {
			return fmt.Errorf("logs: %w", err)
		}
	}
	return nil
}

// obsoletePackages lists the obsolete packages of the plan's packages
// folder (ObsoletePackages), as C dsynth's 06_obsolete_packages.log does.
func (a *applier) obsoletePackages() []string {
	var obs []Obsolete
	err := a.rec.view(func(db *record.DB) error {
		var err error
		obs, err = ObsoletePackages(a.p, db)
		return err
	})
	if err != nil {
		a.o.Warn(err.Error())
		return nil
	}
	out := make([]string, len(obs))
	for i, o := range obs {
		out[i] = o.String()
	}
	return out
}

// allAttempts returns the attempts of this run (from the records when
// they can be read, else from memory).
func (a *applier) allAttempts() []*record.Attempt {
	var out []*record.Attempt
	err := a.rec.view(func(db *record.DB) error {
		var err error
		out, err = db.RunAttempts(a.run.ID)
		return err
	})
	if err == nil {
		return out
	}
	for _, at := range a.attempts {
		out = append(out, at)
	}
	return out
}
