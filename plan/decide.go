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
	"strconv"
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

// decide sets Action and Reason of every node, in build order.
func decide(ctx context.Context, pl *Plan, comps map[string]*Inputs, opt Options, c *creator) error {
	var pkgs map[string]record.Package
	var crcs map[string]record.CRCEntry
	if opt.DB != nil {
		var err error
		if pkgs, err = opt.DB.Packages(); err != nil {
			return err
		}
		if crcs, err = opt.DB.CRCIndex(); err != nil {
			return err
		}
	}
	force := map[string]bool{}
	for _, f := range opt.Force {
		force[f] = true
	}
	for _, f := range opt.Force {
		found := false
		for i := range pl.Ports {
			if pl.Ports[i].ID == f || pl.Ports[i].Origin == f {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("-force %s: no such port in the plan (give an origin or origin@flavor among the targets and their dependencies)", f)
		}
	}
	// cause maps an ignored or skipped node to the ignored node behind it.
	cause := map[string]string{}
	for _, id := range pl.Order {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := pl.Node(id)
		if n.Ignore != "" {
			n.Action, n.Reason = ActionIgnored, n.Ignore
			cause[id] = id
			continue
		}
		var blockers []string
		for _, d := range allDeps(n) {
			if c, ok := cause[d]; ok {
				blockers = append(blockers, c)
			}
		}
		if len(blockers) > 0 {
			blockers = uniqSorted(blockers)
			cause[id] = blockers[0]
			n.Action = ActionSkipped
			n.Reason = "skipped: " + strings.Join(blockers, ", ") + " " + isAre(len(blockers)) + " ignored"
			continue
		}
		if opt.ForceAll || force[n.ID] || force[n.Origin] {
			n.Action, n.Reason = ActionBuild, ReasonForced
			continue
		}
		rec, ok := pkgs[id]
		if !ok && n.Meta {
			// Meta ports produce no package: their last successful build
			// is in the CRC index.
			if e, found := crcs[id]; found {
				rec, ok = record.Package{NodeID: id, InputKey: e.InputKey, CRC32: e.CRC32}, true
			}
		}
		if !ok {
			n.Action, n.Reason = ActionBuild, ReasonNew
			continue
		}
		if rec.InputKey == n.InputKey {
			n.Action, n.Reason = ActionSkip, ReasonUpToDate
			if rec.PkgFile == "" {
				continue // meta port: nothing to check on disk
			}
			sum, err := c.packageSHA(filepath.Join(pl.Profile.PackagesDir, "All", rec.PkgFile))
			if err != nil {
				return err
			}
			switch {
			case sum == "":
				n.Action, n.Reason = ActionBuild, ReasonPackageMissing
			case sum != rec.SHA256:
				n.Action, n.Reason = ActionBuild, ReasonPackageDiffers
			}
			continue
		}
		n.Action, n.Reason = ActionBuild, ReasonInputsChanged
		old, err := c.inputs(rec.InputKey)
		if err != nil {
			return err
		}
		if old != nil {
			if r := changedComponents(old, comps[n.InputKey]); len(r) > 0 {
				n.Reason = strings.Join(r, ", ")
			}
		}
	}
	return nil
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// inputs returns the stored components of an input key, or nil.
func (c *creator) inputs(key string) (*Inputs, error) {
	if c.opt.DB == nil {
		return nil, nil
	}
	b, err := c.opt.DB.CacheGet(record.BucketInputs, key)
	if err != nil || b == nil {
		return nil, err
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
	fi, err := os.Stat(p)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("package %s: %w", p, err)
	}
	key := "sha256:" + p + "\x00" + strconv.FormatInt(fi.Size(), 10) + "\x00" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)
	if c.opt.DB != nil {
		if b, err := c.opt.DB.CacheGet(record.BucketPortCache, key); err == nil && b != nil {
			return string(b), c.noteUse("sha256:"+p, key)
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("package %s: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("package %s: %w", p, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	c.mu.Lock()
	c.cacheNew[key] = []byte(sum)
	c.mu.Unlock()
	return sum, c.noteUse("sha256:"+p, key)
}

// Summary counts a plan's nodes by outcome.
type Summary struct {
	Build, New, Changed, UpToDate, Ignored, Skipped int
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
		}
	}
	return s
}

// String renders the summary line, e.g. "Plan: 12 to build (3 new, 9
// changed), 140 up to date, 1 ignored, 2 skipped."
func (s Summary) String() string {
	return fmt.Sprintf("Plan: %d to build (%d new, %d changed), %d up to date, %d ignored, %d skipped.",
		s.Build, s.New, s.Changed, s.UpToDate, s.Ignored, s.Skipped)
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
