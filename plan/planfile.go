package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-dsynth/dsynth/internal/fsutil"
)

// Errors returned (wrapped in a *FileError) by Read and Decode.
var (
	// ErrNotPlan: the file is not a dsynth plan (not a JSON object, or no
	// format_version).
	ErrNotPlan = errors.New("not a dsynth plan file")
	// ErrCorrupt: the file is a truncated or malformed plan.
	ErrCorrupt = errors.New("corrupt plan file")
	// ErrFormatVersion: the plan was written in a format this dsynth does
	// not read.
	ErrFormatVersion = errors.New("unsupported plan format version")
	// ErrDigest: the body does not match the recorded digest (edited or
	// damaged).
	ErrDigest = errors.New("plan digest mismatch")
	// ErrInvalid: the plan's settings break a rule a profile must pass,
	// or a node has a name no planner gives (checked whatever the digest
	// says: a digest can be recomputed after an edit).
	ErrInvalid = errors.New("invalid plan file")
)

// FileError is a plan file that could not be read.
type FileError struct {
	Path   string
	Err    error // one of the Err* sentinels
	Detail string
}

func (e *FileError) Error() string {
	s := e.Err.Error()
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *FileError) Unwrap() error { return e.Err }

// canonicalBody is the digested form of a plan: compact JSON of the plan
// with an empty digest. encoding/json writes struct fields in declaration
// order and map keys sorted, so equal plans give equal bytes.
func canonicalBody(p *Plan) ([]byte, error) {
	c := *p
	c.Digest = ""
	b, err := json.Marshal(&c)
	if err != nil || c.FormatVersion != 1 {
		return b, err
	}
	// Format 1 omitted empty flavors. In compact JSON the pair can only
	// be a node's key (quotes inside strings are escaped), and flavor is
	// followed by pkgname, so this gives back format 1's exact body.
	return bytes.ReplaceAll(b, []byte(`"flavor":"",`), nil), nil
}

// ComputeDigest returns the hex SHA-256 of p's canonical body.
func ComputeDigest(p *Plan) (string, error) {
	b, err := canonicalBody(p)
	if err != nil {
		return "", fmt.Errorf("encode plan: %w", err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// Encode sets p's format version and digest and returns the plan file
// bytes (indented JSON, newline-terminated).
func Encode(p *Plan) ([]byte, error) {
	p.FormatVersion = FormatVersion
	d, err := ComputeDigest(p)
	if err != nil {
		return nil, err
	}
	p.Digest = d
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	return append(b, '\n'), nil
}

// Write encodes p into the file at path, atomically (temp file + rename).
func Write(path string, p *Plan) error {
	b, err := Encode(p)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(path, b, 0o600); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return nil
}

// Read reads and verifies the plan file at path: format version first,
// then the digest. Errors are *FileError wrapping ErrNotPlan, ErrCorrupt,
// ErrFormatVersion or ErrDigest, or the I/O error.
func Read(path string) (*Plan, error) {
	p, _, err := ReadFile(path)
	return p, err
}

// maxPlanFile bounds a plan file (a 30,000-port plan is about 40 MB).
const maxPlanFile = 1 << 30

// ReadFile is Read that also returns the file's bytes (apply records them
// with the run).
func ReadFile(path string) (*Plan, []byte, error) {
	b, err := fsutil.ReadFile(path, maxPlanFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := Decode(b)
	var fe *FileError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	return p, b, err
}

// IsPlanFile reports whether the file at path looks like a plan file (a
// JSON object with a format_version), without verifying it. Commands that
// accept a plan file or something else use it to dispatch.
func IsPlanFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = bytes.TrimLeft(head[:n], " \t\r\n")
	return len(head) > 0 && head[0] == '{' && bytes.Contains(head, []byte(`"format_version"`))
}

// Decode parses and verifies plan file bytes (see Read).
func Decode(b []byte) (*Plan, error) {
	trim := bytes.TrimSpace(b)
	if len(trim) == 0 || trim[0] != '{' {
		return nil, &FileError{Err: ErrNotPlan, Detail: "not a JSON object"}
	}
	var head struct {
		FormatVersion *int    `json:"format_version"`
		Digest        *string `json:"digest"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		if bytes.Contains(b, []byte(`"format_version"`)) {
			return nil, &FileError{Err: ErrCorrupt, Detail: err.Error()}
		}
		return nil, &FileError{Err: ErrNotPlan, Detail: err.Error()}
	}
	if head.FormatVersion == nil {
		return nil, &FileError{Err: ErrNotPlan, Detail: "no format_version"}
	}
	if v := *head.FormatVersion; v < minFormatVersion || v > FormatVersion {
		return nil, &FileError{Err: ErrFormatVersion,
			Detail: fmt.Sprintf("file has version %d, this dsynth reads versions %d to %d", v, minFormatVersion, FormatVersion)}
	}
	if head.Digest == nil || *head.Digest == "" {
		return nil, &FileError{Err: ErrCorrupt, Detail: "no digest"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, &FileError{Err: ErrCorrupt, Detail: err.Error()}
	}
	if dec.More() {
		return nil, &FileError{Err: ErrCorrupt, Detail: "trailing data after the plan"}
	}
	d, err := ComputeDigest(&p)
	if err != nil {
		return nil, &FileError{Err: ErrCorrupt, Detail: err.Error()}
	}
	if d != p.Digest {
		return nil, &FileError{Err: ErrDigest, Detail: fmt.Sprintf("recorded %s, content hashes to %s", p.Digest, d)}
	}
	// A digest can be recomputed after an edit: the settings must pass
	// the rules of a profile, and the graph must still be one a planner
	// could have made.
	if probs := checkSettings(&p); len(probs) > 0 {
		return nil, &FileError{Err: ErrInvalid, Detail: strings.Join(probs, "; ")}
	}
	if err := checkGraph(&p); err != nil {
		return nil, &FileError{Err: ErrCorrupt, Detail: err.Error()}
	}
	return &p, nil
}

// checkGraph verifies a decoded plan's graph: node IDs sorted and unique,
// every dependency and pkg_node a node, no cycle, and the order a
// topological order of exactly the nodes.
func checkGraph(p *Plan) error {
	for i := range p.Ports {
		n := &p.Ports[i]
		if n.ID == "" {
			return fmt.Errorf("node %d has no id", i)
		}
		if i > 0 && p.Ports[i-1].ID >= n.ID {
			return fmt.Errorf("nodes not sorted or %s given twice", n.ID)
		}
	}
	for i := range p.Ports {
		n := &p.Ports[i]
		for _, d := range allDeps(n) {
			if p.Node(d) == nil {
				return fmt.Errorf("%s depends on %s, which is not in the plan", n.ID, d)
			}
		}
	}
	if p.PkgNode != "" && p.Node(p.PkgNode) == nil {
		return fmt.Errorf("pkg_node %s is not in the plan", p.PkgNode)
	}
	if len(p.Order) != len(p.Ports) {
		return fmt.Errorf("order lists %d nodes, the plan has %d", len(p.Order), len(p.Ports))
	}
	pos := make(map[string]int, len(p.Order))
	for i, id := range p.Order {
		if p.Node(id) == nil {
			return fmt.Errorf("order names %s, which is not in the plan", id)
		}
		if _, dup := pos[id]; dup {
			return fmt.Errorf("order names %s twice", id)
		}
		pos[id] = i
	}
	for i := range p.Ports {
		n := &p.Ports[i]
		for _, d := range allDeps(n) {
			if pos[d] >= pos[n.ID] {
				return fmt.Errorf("order builds %s before its dependency %s (a cycle?)", n.ID, d)
			}
		}
	}
	return nil
}
