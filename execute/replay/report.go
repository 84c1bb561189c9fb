package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Verdicts of a port.
const (
	// VerdictReproduced: the same SHA-256 as the original package.
	VerdictReproduced = "reproduced"
	// VerdictDiffers: built, with a different SHA-256.
	VerdictDiffers = "differs"
	// VerdictFailed: the replay failed to build it (or was interrupted).
	VerdictFailed = "failed"
	// VerdictSkipped: not built because a dependency failed.
	VerdictSkipped = "skipped"
	// VerdictNotBuilt: built, but there is no original package to compare
	// with ("not built originally").
	VerdictNotBuilt = "not built originally"
	// VerdictNoPackage: a meta port (built, no package).
	VerdictNoPackage = "no package"
	// VerdictNotPlanned: ignored or skipped in the plan itself.
	VerdictNotPlanned = "not planned"
)

// Exit code bits of `dsynth replay` (0: every package reproduced; 1 is the
// error code of every dsynth command, when no replay happened).
const (
	ExitDiffers    = 2 // some package differs
	ExitFailed     = 4 // some port failed or was skipped
	ExitUncompared = 8 // some package has no original to compare with
)

// PortResult is the replay outcome of one node.
type PortResult struct {
	Node    string `json:"node"`
	Version string `json:"version"`
	PkgFile string `json:"pkgfile,omitempty"`
	Verdict string `json:"verdict"`
	// OriginalSHA256 and ReplaySHA256 are the two packages' hashes.
	OriginalSHA256 string `json:"original_sha256,omitempty"`
	ReplaySHA256   string `json:"replay_sha256,omitempty"`
	// OriginalRun built the original package; OriginalStatus is the
	// node's status in the original run.
	OriginalRun    string `json:"original_run,omitempty"`
	OriginalStatus string `json:"original_status,omitempty"`
	// Differences are the first differing archive members (differs, when
	// the original package is still in packages_dir).
	Differences []MemberDiff `json:"differences,omitempty"`
	// Note is the failure or skip reason, or why there is nothing to
	// compare.
	Note string `json:"note,omitempty"`
}

// Counts summarise a report.
type Counts struct {
	// Packages is the number of packages the plan describes (ports that
	// are neither meta ports nor ignored/skipped in the plan).
	Packages   int `json:"packages"`
	Reproduced int `json:"reproduced"`
	Differs    int `json:"differs"`
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"`
	NotBuilt   int `json:"not_built_originally"`
}

// Report is the result of a replay.
type Report struct {
	// Original is the Run.ReplayOf link: the original run ID or
	// "plan:<digest>"; OriginalRun the original run ("" when none).
	Original    string `json:"original"`
	OriginalRun string `json:"original_run,omitempty"`
	PlanDigest  string `json:"plan_digest"`
	// ReplayRun is the replay's own run and Status its run status.
	ReplayRun   string       `json:"replay_run"`
	Status      string       `json:"status"`
	Tree        string       `json:"tree"`
	Commit      string       `json:"commit,omitempty"`
	PackagesDir string       `json:"packages_dir"`
	Ports       []PortResult `json:"ports"`
	Counts      Counts       `json:"counts"`
	ExitCode    int          `json:"exit_code"`
}

func (r *Report) count() {
	c := Counts{}
	for _, p := range r.Ports {
		switch p.Verdict {
		case VerdictReproduced:
			c.Reproduced++
		case VerdictDiffers:
			c.Differs++
		case VerdictFailed:
			c.Failed++
		case VerdictSkipped:
			c.Skipped++
		case VerdictNotBuilt:
			c.NotBuilt++
		}
		if p.Verdict != VerdictNoPackage && p.Verdict != VerdictNotPlanned {
			c.Packages++
		}
	}
	r.Counts = c
	r.ExitCode = 0
	if c.Differs > 0 {
		r.ExitCode |= ExitDiffers
	}
	if c.Failed+c.Skipped > 0 {
		r.ExitCode |= ExitFailed
	}
	if c.NotBuilt > 0 {
		r.ExitCode |= ExitUncompared
	}
}

// Summary is the one-line result, e.g. "41/42 reproduced bit-for-bit".
func (r *Report) Summary() string {
	c := r.Counts
	s := fmt.Sprintf("%d/%d reproduced bit-for-bit", c.Reproduced, c.Packages)
	var more []string
	for _, x := range []struct {
		n    int
		what string
	}{{c.Differs, "differ"}, {c.Failed, "failed"}, {c.Skipped, "skipped"}, {c.NotBuilt, "not built originally"}} {
		if x.n > 0 {
			more = append(more, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	if len(more) > 0 {
		s += " (" + strings.Join(more, ", ") + ")"
	}
	return s
}

// RenderHuman writes the report as text: one line per port (reproduced
// ones too), the differences under differing ports, then the summary.
func RenderHuman(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "Replay of %s\n", r.Original)
	fmt.Fprintf(w, "  tree:     %s\n", r.Tree)
	fmt.Fprintf(w, "  packages: %s\n", r.PackagesDir)
	fmt.Fprintf(w, "  run:      %s (%s)\n\n", r.ReplayRun, r.Status)
	width := 0
	for _, p := range r.Ports {
		width = max(width, len(p.Node))
	}
	for _, p := range r.Ports {
		line := fmt.Sprintf("%-20s %-*s", p.Verdict, width, p.Node)
		if p.Verdict == VerdictReproduced || p.Verdict == VerdictNotBuilt {
			line += "  " + short(p.ReplaySHA256)
		}
		if p.Note != "" {
			line += "  " + p.Note
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
		if p.Verdict == VerdictDiffers {
			fmt.Fprintf(w, "    original %s\n    replay   %s\n", p.OriginalSHA256, p.ReplaySHA256)
			for _, d := range p.Differences {
				fmt.Fprintf(w, "    - %s\n", d)
			}
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.Summary())
	return err
}

// RenderJSON writes the report as indented JSON.
func RenderJSON(w io.Writer, r *Report) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

func short(h string) string { return h[:min(16, len(h))] }
