package rundiff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// RenderHuman writes d as text.
func RenderHuman(w io.Writer, d *Diff) error {
	run := func(label string, r RunInfo) {
		fmt.Fprintf(w, "%s %s  %s  %s  profile %s", label, r.ID, r.Start.UTC().Format("2006-01-02 15:04:05Z"), r.Status, r.Profile)
		if r.Commit != "" {
			fmt.Fprintf(w, "  commit %s", r.Commit[:min(12, len(r.Commit))])
		}
		if r.ReplayOf != "" {
			fmt.Fprintf(w, "  (replay of %s)", r.ReplayOf)
		}
		fmt.Fprintln(w)
	}
	run("A:", d.A)
	run("B:", d.B)
	if len(d.Tree) > 0 {
		fmt.Fprintf(w, "\nTree-wide changes:\n")
		for _, c := range d.Tree {
			fmt.Fprintf(w, "  %s: %s\n", c.Input, c.Detail)
		}
	}
	if len(d.Added) > 0 {
		fmt.Fprintf(w, "\nAdded (%d): %s\n", len(d.Added), strings.Join(d.Added, " "))
	}
	if len(d.Removed) > 0 {
		fmt.Fprintf(w, "\nRemoved (%d): %s\n", len(d.Removed), strings.Join(d.Removed, " "))
	}
	for _, p := range d.Ports {
		fmt.Fprintf(w, "\n%s", p.Node)
		if p.VersionA != p.VersionB {
			fmt.Fprintf(w, "  %s -> %s", p.VersionA, p.VersionB)
		} else {
			fmt.Fprintf(w, "  %s", p.VersionB)
		}
		fmt.Fprintln(w)
		for _, c := range p.Inputs {
			fmt.Fprintf(w, "  %-13s %s\n", c.Input+":", c.Detail)
		}
		if p.OutcomeA != p.OutcomeB {
			fmt.Fprintf(w, "  %-13s %s -> %s\n", "outcome:", outcome(p.OutcomeA, p.DurationA), outcome(p.OutcomeB, p.DurationB))
		} else if p.DurationA > 0 || p.DurationB > 0 {
			fmt.Fprintf(w, "  %-13s %s, %s -> %s\n", "duration:", p.OutcomeB, dur(p.DurationA), dur(p.DurationB))
		}
		if p.PackageA != p.PackageB {
			fmt.Fprintf(w, "  %-13s %s -> %s\n", "package:", hash(p.PackageA), hash(p.PackageB))
		}
	}
	if len(d.Ports)+len(d.Added)+len(d.Removed)+len(d.Tree) == 0 {
		fmt.Fprintf(w, "\nNo differences")
	} else {
		fmt.Fprintf(w, "\n%d port(s) changed, %d added, %d removed", len(d.Ports), len(d.Added), len(d.Removed))
	}
	_, err := fmt.Fprintf(w, ", %d unchanged.\n", d.Unchanged)
	return err
}

// RenderJSON writes d as indented JSON.
func RenderJSON(w io.Writer, d *Diff) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(d)
}

func outcome(s string, d time.Duration) string {
	if s == "" {
		return "(no attempt)"
	}
	if d > 0 {
		return s + " in " + dur(d)
	}
	return s
}

func dur(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func hash(h string) string {
	if h == "" {
		return "(none)"
	}
	return h[:min(16, len(h))]
}
