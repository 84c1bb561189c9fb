package execute

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

// Obsolete is a package file of packages_dir/All that the tree no longer
// produces, with why.
type Obsolete struct {
	File   string
	Size   int64
	Reason string
}

func (o Obsolete) String() string { return fmt.Sprintf("%s (%s)", o.File, o.Reason) }

// ObsoletePackages lists the package files of plan p's packages_dir/All
// that its tree no longer produces: an old version of a planned port, a
// port removed from the tree, a flavor the port no longer has; with a plan
// of the whole tree in every flavor (ports = ["all"]), any file no port
// makes. A file is tied to the port that made it by the records (every
// attempt names its package file; db may be nil). What cannot be told
// apart from a package the profile simply did not plan this time is kept.
func ObsoletePackages(p *plan.Plan, db *record.DB) ([]Obsolete, error) {
	all := filepath.Join(p.Settings.PackagesDir, "All")
	ents, err := os.ReadDir(all)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("obsolete packages: %w", err)
	}
	want := map[string]bool{}
	origins := map[string]bool{}
	nodes := map[string]*plan.Node{}
	unscanned := false // a port failed to plan: its package file is unknown
	for i := range p.Ports {
		n := &p.Ports[i]
		if n.PkgFile != "" {
			want[n.PkgFile] = true
		}
		if n.Action == plan.ActionFailed && n.PkgFile == "" {
			unscanned = true
		}
		origins[n.Origin] = true
		nodes[n.ID] = n
	}
	// Only files no planned node makes need the records.
	unplanned := false
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") && !want[e.Name()] {
			unplanned = true
			break
		}
	}
	if !unplanned {
		return nil, nil
	}
	maker := map[string]string{} // package file -> node ID
	if db != nil {
		atts, err := db.AttemptsSince(time.Time{})
		if err != nil {
			return nil, fmt.Errorf("obsolete packages: records: %w", err)
		}
		for _, a := range atts {
			if a.PkgFile != "" && a.Status == record.AttemptSuccess {
				maker[a.PkgFile] = a.NodeID
			}
		}
		pkgs, err := db.Packages()
		if err != nil {
			return nil, fmt.Errorf("obsolete packages: records: %w", err)
		}
		for id, pk := range pkgs {
			if pk.PkgFile != "" {
				maker[pk.PkgFile] = id
			}
		}
	}
	whole := len(p.Settings.Targets) == 1 && p.Settings.Targets[0] == plan.AllPorts && p.Settings.AllFlavors
	var out []Obsolete
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || want[name] {
			continue
		}
		reason := ""
		if id := maker[name]; id != "" {
			origin, flavor, _ := strings.Cut(id, "@")
			switch n := nodes[id]; {
			case n != nil && n.PkgFile != "":
				reason = fmt.Sprintf("old package of %s, which now makes %s", id, n.PkgFile)
			case n != nil && n.Meta:
				reason = fmt.Sprintf("%s is a meta port now (no package)", id)
			case n != nil: // planned, but its package is not known (it failed to scan)
			case !portExists(p.Settings.PortsDir, origin):
				reason = fmt.Sprintf("%s was removed from the ports tree", origin)
			case whole && flavor != "" && origins[origin]:
				reason = fmt.Sprintf("%s has no flavor %s any more", origin, flavor)
			case whole && !excluded(p.Settings.Exclude, origin, flavor):
				reason = fmt.Sprintf("%s is not in the tree's plan any more", id)
			}
		} else if whole && !unscanned {
			reason = "no port of the tree makes it"
		}
		if reason == "" {
			continue
		}
		var size int64
		if fi, err := e.Info(); err == nil {
			size = fi.Size()
		}
		out = append(out, Obsolete{File: name, Size: size, Reason: reason})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}

func portExists(portsDir, origin string) bool {
	if strings.Contains(origin, "..") || strings.Count(origin, "/") != 1 {
		return false
	}
	_, err := os.Stat(filepath.Join(portsDir, origin, "Makefile"))
	return err == nil
}

// excluded reports whether the profile's exclude list names the port (an
// excluded port's packages are not obsolete: the tree still makes them).
func excluded(ex []string, origin, flavor string) bool {
	cat, _, _ := strings.Cut(origin, "/")
	for _, e := range ex {
		if e == origin || e == cat+"/*" || (flavor != "" && e == origin+"@"+flavor) {
			return true
		}
	}
	return false
}
