package plan

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// DefaultSourceDateEpoch is the SOURCE_DATE_EPOCH of plans whose ports
// tree is not a git checkout: 1980-01-01T00:00:00Z, valid in every archive
// format.
const DefaultSourceDateEpoch = 315532800

// CommitTime returns the committer time (Unix seconds) of commit in the
// git checkout at dir, or DefaultSourceDateEpoch when it cannot be read.
func CommitTime(ctx context.Context, dir, commit string) int64 {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "show", "-s", "--format=%ct", commit).Output()
	if err != nil {
		return DefaultSourceDateEpoch
	}
	t, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || t <= 0 {
		return DefaultSourceDateEpoch
	}
	return t
}

// CheckInputKeys recomputes every node's input key from the plan's own
// data (port hashes, options, make.conf, framework, environment and the
// dependencies' keys) and returns a Change of kind "input key" for each
// node whose pinned key differs. Together with Verify (which compares the
// pinned hashes with the tree) it proves that building the plan again
// uses exactly the inputs it pinned. p is not modified.
func CheckInputKeys(p *Plan) []Change {
	c := *p
	c.Ports = append([]Node(nil), p.Ports...)
	computeKeys(&c, envIdentity(&c.Settings, c.Environment), nil) // cannot fail: no callback
	var out []Change
	for i := range p.Ports {
		if got, want := c.Ports[i].InputKey, p.Ports[i].InputKey; got != want {
			out = append(out, Change{Kind: "input key", Node: p.Ports[i].ID,
				Detail: fmt.Sprintf("pinned input key %.12s does not match its inputs (%.12s)", want, got)})
		}
	}
	return out
}
