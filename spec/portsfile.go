package spec

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/go-dsynth/dsynth/internal/fsutil"
)

// readPortsFile reads a ports_file: one origin per line, # starts a
// comment, blank lines are ignored. Errors point at the file's line.
func (ld *loader) readPortsFile(path string, attrRange hcl.Range) []string {
	src, err := fsutil.ReadFile(path, fsutil.MaxFileSize)
	if err != nil {
		ld.errorf(attrRange.Ptr(), "Failed to read ports_file", "%v.", err)
		return nil
	}
	ld.extra[path] = src
	var out []string
	off := 0
	for i, line := range strings.SplitAfter(string(src), "\n") {
		lineStart := off
		off += len(line)
		text := strings.TrimRight(line, "\r\n")
		if j := strings.IndexByte(text, '#'); j >= 0 {
			text = text[:j]
		}
		lead := len(text) - len(strings.TrimLeft(text, " \t"))
		origin := strings.TrimSpace(text)
		if origin == "" {
			continue
		}
		rng := hcl.Range{
			Filename: path,
			Start:    hcl.Pos{Line: i + 1, Column: lead + 1, Byte: lineStart + lead},
			End:      hcl.Pos{Line: i + 1, Column: lead + len(origin) + 1, Byte: lineStart + lead + len(origin)},
		}
		if origin != AllPorts {
			if err := CheckOrigin(origin); err != nil {
				ld.errorf(&rng, "Invalid origin", "%s:%d: %v.", path, i+1, err)
				continue
			}
		}
		out = append(out, origin)
	}
	return out
}
