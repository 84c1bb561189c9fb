package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-dsynth/dsynth/record"
)

// Reasons of ActionBuild and ActionSkip nodes. Several build reasons may
// be joined with ", " (e.g. "port changed, dependency changed").
const (
	ReasonNew                = "new"
	ReasonPortChanged        = "port changed"
	ReasonOptionsChanged     = "options changed"
	ReasonMakeConfChanged    = "make.conf changed"
	ReasonFrameworkChanged   = "framework changed"
	ReasonEnvironmentChanged = "environment changed"
	ReasonDependencyChanged  = "dependency changed"
	ReasonInputsChanged      = "inputs changed"
	ReasonPackageMissing     = "package missing"
	ReasonPackageDiffers     = "package differs"
	ReasonForced             = "forced"
	ReasonUpToDate           = "up to date"
)

// decide sets Action and Reason of every node, in build order, and
// returns, for every node that is failed, ignored or skipped, the failed
// or ignored nodes behind it (sorted).
func decide(ctx context.Context, pl *Plan, opt Options, c *creator) (map[string][]string, error) {
	var pkgs map[string]record.Package
	var crcs map[string]record.CRCEntry
	if opt.DB != nil {
		var err error
		if pkgs, err = opt.DB.Packages(); err != nil {
			return nil, err
		}
		if crcs, err = opt.DB.CRCIndex(); err != nil {
			return nil, err
		}
	}
	// Forced nodes: an origin means its default flavor, as everywhere.
	force := map[string]bool{}
	for _, f := range opt.Force {
		id := f
		if d, ok := c.defaultNode[f]; ok {
			id = d
		}
		if pl.Node(id) == nil {
			return nil, fmt.Errorf("-force %s: no such port in the plan (give an origin or origin@flavor among the targets and their dependencies)", f)
		}
		force[id] = true
	}
	// causes maps a node that cannot be built to the failed or ignored
	// nodes behind it; via maps it to the chain of dependencies from it
	// down to its first cause (both excluded).
	causes := map[string][]string{}
	via := map[string][]string{}
	// how says how dependency d changed for its dependents: its version
	// (the recorded package's against the plan's) and, when it is being
	// built, its own reasons without their details; "rebuilt since" when
	// it is up to date (it was rebuilt after the dependent was built).
	how := func(d string) string {
		dn := pl.Node(d)
		if dn == nil {
			return ""
		}
		var parts []string
		if rec, ok := pkgs[d]; ok && rec.Version != "" && dn.Version != "" && rec.Version != dn.Version {
			parts = append(parts, rec.Version+" -> "+dn.Version)
		}
		switch dn.Action {
		case ActionBuild:
			parts = append(parts, bareReason(dn.Reason))
		case ActionSkip:
			if len(parts) == 0 {
				parts = append(parts, "rebuilt since")
			}
		}
		return strings.Join(parts, ", ")
	}
	for _, id := range pl.Order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := pl.Node(id)
		if n.Action == ActionFailed { // set by Create, Reason says why
			causes[id] = []string{id}
			continue
		}
		if n.Ignore != "" {
			n.Action, n.Reason = ActionIgnored, n.Ignore
			causes[id] = []string{id}
			continue
		}
		var blockers []string
		first := ""
		for _, d := range allDeps(n) {
			if cs, ok := causes[d]; ok {
				blockers = append(blockers, cs...)
				if first == "" || cs[0] < causes[first][0] {
					first = d
				}
			}
		}
		if len(blockers) > 0 {
			blockers = uniqSorted(blockers)
			causes[id] = blockers
			if first != blockers[0] {
				via[id] = append([]string{first}, via[first]...)
			}
			var parts []string
			for _, b := range blockers {
				if pl.Node(b).Action == ActionFailed {
					parts = append(parts, b+" failed to plan")
				} else {
					parts = append(parts, b+" is ignored")
				}
			}
			n.Action = ActionSkipped
			n.Reason = "skipped: " + strings.Join(parts, ", ")
			if len(via[id]) > 0 {
				n.Reason += " (via " + strings.Join(via[id], " -> ") + ")"
			}
			continue
		}
		a, reason, err := c.decideOne(pl, n, pkgs, crcs, how)
		if err != nil {
			return nil, err
		}
		n.Action, n.Reason = a, reason
		// Forcing keeps a build's own reason (new, changed, ...) and
		// turns an up-to-date port into a forced rebuild.
		if (opt.ForceAll || force[n.ID]) && n.Action == ActionSkip {
			n.Action, n.Reason = ActionBuild, ReasonForced
		}
	}
	return causes, nil
}

// decideOne says whether node n of pl needs building and why, from the
// latest package records (pkgs, and crcs for meta ports) and, when its
// input key changed, its input components against the recorded ones.
func (c *creator) decideOne(pl *Plan, n *Node, pkgs map[string]record.Package, crcs map[string]record.CRCEntry, how func(string) string) (Action, string, error) {
	rec, ok := pkgs[n.ID]
	if !ok && n.Meta {
		// Meta ports produce no package: their last successful build
		// is in the CRC index.
		if e, found := crcs[n.ID]; found {
			rec, ok = record.Package{NodeID: n.ID, InputKey: e.InputKey, CRC32: e.CRC32}, true
		}
	}
	if !ok {
		return ActionBuild, ReasonNew, nil
	}
	if rec.InputKey == n.InputKey {
		if rec.PkgFile == "" {
			return ActionSkip, ReasonUpToDate, nil // meta port: nothing to check on disk
		}
		sum, err := c.packageSHA(filepath.Join(c.p.PackagesDir, "All", rec.PkgFile))
		switch {
		case err != nil:
			return "", "", err
		case sum == "":
			return ActionBuild, ReasonPackageMissing, nil
		case sum != rec.SHA256:
			return ActionBuild, ReasonPackageDiffers, nil
		}
		return ActionSkip, ReasonUpToDate, nil
	}
	old, err := c.inputs(rec.InputKey)
	if err != nil {
		return "", "", err
	}
	if old != nil {
		if c.names == nil {
			nm := planNames(&pl.Settings, pl.Environment)
			c.names = &nm
		}
		in := nodeComponents(pl, c.envID, *c.names, n)
		if r := changedComponents(old, in, n.Origin, how); len(r) > 0 {
			return ActionBuild, strings.Join(r, ", "), nil
		}
	}
	return ActionBuild, ReasonInputsChanged, nil
}

// bareReason is a reason without its parenthesized details:
// "port changed (devel/lib/Makefile), dependency changed (x: y)" is
// "port changed, dependency changed".
func bareReason(r string) string {
	var b strings.Builder
	depth := 0
	for _, ch := range r {
		switch {
		case ch == '(':
			depth++
		case ch == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(ch)
		}
	}
	return strings.ReplaceAll(strings.Join(strings.Fields(b.String()), " "), " ,", ",")
}

// inputs returns the stored components of an input key, or nil.
func (c *creator) inputs(key string) (*Inputs, error) {
	if c.opt.DB == nil {
		return nil, nil
	}
	b, err := c.opt.DB.Inputs(key)
	if err != nil {
		return nil, err
	}
	c.obs.add(memoUnit{Kind: unitInputs, Path: key, Hash: map[bool]string{true: "1"}[b != nil]})
	if b == nil {
		return nil, nil
	}
	var in Inputs
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, nil // unreadable: say "inputs changed"
	}
	return &in, nil
}

// packageSHA returns the hex SHA-256 of a package file, "" when it does not
// exist. Hashes are cached in the records database by path, size and
// modification time, so a warm plan does not re-read every package.
func (c *creator) packageSHA(p string) (string, error) {
	sum, err := c.packageSum(p)
	if err != nil {
		c.obs.fail()
		return "", err
	}
	c.obs.add(memoUnit{Kind: unitFile, Path: p, Hash: sum})
	return sum, nil
}

// packageSum is packageSHA, without telling the plan's memo.
func (c *creator) packageSum(p string) (string, error) {
	fi, err := os.Stat(p)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("package %s: %w", p, err)
	}
	f := record.PackageFile{Path: p, Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	used := false
	if c.opt.DB != nil {
		sum, u, err := c.opt.DB.PackageHash(c.p.Name, f)
		if err != nil {
			return "", fmt.Errorf("package %s: %w", p, err)
		}
		if used = u; sum != "" {
			if !used {
				c.addCache(0, func(u *record.CacheUpdate) { u.PackageUses = append(u.PackageUses, f) })
			}
			return sum, nil
		}
	}
	r, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("package %s: %w", p, err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("package %s: %w", p, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if c.opt.DB != nil {
		c.addCache(len(sum), func(u *record.CacheUpdate) {
			if u.PackageHashes == nil {
				u.PackageHashes = map[record.PackageFile]string{}
			}
			u.PackageHashes[f] = sum
			if !used {
				u.PackageUses = append(u.PackageUses, f)
			}
		})
	}
	return sum, nil
}

// Summary counts a plan's nodes by outcome.
type Summary struct {
	Build, New, Changed, UpToDate, Failed, Ignored, Skipped int
}

// Summarize counts p's nodes.
func Summarize(p *Plan) Summary {
	var s Summary
	for i := range p.Ports {
		n := &p.Ports[i]
		switch n.Action {
		case ActionBuild:
			s.Build++
			if n.Reason == ReasonNew {
				s.New++
			} else {
				s.Changed++
			}
		case ActionSkip:
			s.UpToDate++
		case ActionIgnored:
			s.Ignored++
		case ActionSkipped:
			s.Skipped++
		case ActionFailed:
			s.Failed++
		}
	}
	return s
}

// String renders the summary line, e.g. "Plan: 12 to build (3 new, 9
// changed), 140 up to date, 0 failed, 1 ignored, 2 skipped."
func (s Summary) String() string {
	return fmt.Sprintf("Plan: %d to build (%d new, %d changed), %d up to date, %d failed, %d ignored, %d skipped.",
		s.Build, s.New, s.Changed, s.UpToDate, s.Failed, s.Ignored, s.Skipped)
}

// sortedKeys returns m's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
