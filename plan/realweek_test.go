package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/spec"
)

// TestRealWeek measures what the rebuild policies rebuild between two
// checkouts of a real ports tree (docs/plan.md, "Rebuild policies"). It
// runs only with DSYNTH_REALWEEK="OLD NEW PROFILE": OLD and NEW are the two
// trees, PROFILE a profile for OLD (see ../shared/realtrees: profile.sh).
// For each policy it plans OLD, records every port as built, plans NEW
// (ports_dir replaced) and logs how many ports rebuild, for what kind of
// cause: two cold scans of the whole tree per policy (the metadata cache
// keeps only the entries the last plan used). DSYNTH_REALWEEK_POLICY
// restricts it to one policy; with DSYNTH_REALWEEK_OUT=DIR it also writes
// every rebuild's reason to DIR/<policy>.txt.
func TestRealWeek(t *testing.T) {
	args := strings.Fields(os.Getenv("DSYNTH_REALWEEK"))
	if len(args) != 3 {
		t.Skip(`set DSYNTH_REALWEEK="OLD NEW PROFILE" to run (two cold scans of a real tree)`)
	}
	l, diags := spec.Load(args[2], spec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	base := t.TempDir()
	db := openDB(t, base)
	for _, policy := range []string{spec.RebuildRecipe, spec.RebuildMakefiles} {
		if p := os.Getenv("DSYNTH_REALWEEK_POLICY"); p != "" && p != policy {
			continue
		}
		prof := *l.Profile
		prof.BuildBase = filepath.Join(base, policy)
		prof.PackagesDir = filepath.Join(prof.BuildBase, "packages")
		prof.Rebuild = ""
		if policy == spec.RebuildMakefiles {
			prof.Rebuild = policy
		}
		prof.PortsDir = args[0]
		old, st := mustCreate(t, Options{Profile: &prof, DB: db, Jobs: 2, KeepGoing: true})
		t.Logf("%s: old tree: %d nodes, %d make runs", policy, len(old.Ports), st.MakeRuns)
		markBuilt(t, db, old)
		prof.PortsDir = args[1]
		cur, st := mustCreate(t, Options{Profile: &prof, DB: db, Jobs: 2, KeepGoing: true})
		s := Summarize(cur)
		kinds := map[string]int{}
		names := map[string]int{} // the variables or Mk files framework changed names
		own := 0
		var out strings.Builder
		for i := range cur.Ports {
			n := &cur.Ports[i]
			if n.Action != ActionBuild || n.Reason == ReasonNew {
				continue
			}
			fmt.Fprintf(&out, "%s\t%s\n", n.ID, n.Reason)
			if i := strings.Index(n.Reason, ReasonFrameworkChanged+" ("); i >= 0 {
				r := n.Reason[i+len(ReasonFrameworkChanged)+2:]
				r = r[:strings.IndexByte(r, ')')]
				for _, nm := range strings.Split(r, ", ") {
					names[nm]++
				}
			}
			parts := strings.Split(bareReason(n.Reason), ", ")
			onlyDeps := true
			for _, p := range parts {
				kinds[p]++
				onlyDeps = onlyDeps && p == ReasonDependencyChanged
			}
			if !onlyDeps {
				own++
			}
		}
		var ks []string
		for k, v := range kinds {
			ks = append(ks, fmt.Sprintf("%s: %d", k, v))
		}
		sort.Strings(ks)
		var ns []string
		for k := range names {
			ns = append(ns, k)
		}
		sort.Slice(ns, func(i, j int) bool {
			return names[ns[i]] > names[ns[j]] || names[ns[i]] == names[ns[j]] && ns[i] < ns[j]
		})
		for i, k := range ns {
			ns[i] = fmt.Sprintf("%s: %d", k, names[k])
		}
		t.Logf("%s: framework changed names: %s", policy, strings.Join(ns[:min(len(ns), 15)], ", "))
		if dir := os.Getenv("DSYNTH_REALWEEK_OUT"); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, policy+".txt"), []byte(out.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: new tree: %d nodes (%d make runs): %d to build (%.1f %%: %d new, %d changed, %d for a cause of their own, %d through dependencies only), %d up to date, %d failed, %d ignored, %d skipped; causes: %s",
			policy, len(cur.Ports), st.MakeRuns, s.Build, 100*float64(s.Build)/float64(len(cur.Ports)), s.New, s.Changed, own, s.Changed-own,
			s.UpToDate, s.Failed, s.Ignored, s.Skipped, strings.Join(ks, ", "))
	}
}
