package planfile

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
	"github.com/go-dsynth/dsynth/plan"
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

// FormatVersion is the plan file format version written by this dsynth.
// Version 4 adds recipe_hash. Version 3 adds the action "failed" (a node
// that could not be planned; a dsynth reading version 2 would have built
// it). Version 2 writes every node's "flavor" (empty for unflavored
// ports); version 1 left it out when empty. All are read (see Decode).
const FormatVersion = 4

// minFormatVersion is the oldest plan file format this dsynth reads.
const minFormatVersion = 1

// A File is a plan with its encoding: Bytes are the plan file of Plan and
// Digest is theirs, always. Make one with Encode (a new plan) or Decode
// and Read (a plan file); neither its plan nor its bytes may be modified.
type File struct {
	plan    *plan.Plan
	bytes   []byte
	version int
}

// Plan is the plan (its Digest set).
func (f *File) Plan() *plan.Plan { return f.plan }

// Bytes are the plan file.
func (f *File) Bytes() []byte { return f.bytes }

// Digest is the plan's digest.
func (f *File) Digest() string { return f.plan.Digest }

// FormatVersion is the format the file is in.
func (f *File) FormatVersion() int { return f.version }

// canonicalBody is the digested form of a plan file: compact JSON of the
// wire plan with an empty digest.
func canonicalBody(w *filePlan) ([]byte, error) {
	c := *w
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

func digestOf(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:])
}

// Encode encodes p in the current format. p is not modified: the File's
// plan is a copy of it (sharing its nodes) with the digest set. The file
// is written one node at a time (see WriteTo) into a buffer of about its
// size.
func Encode(p *plan.Plan) (*File, error) {
	d, n, err := digestPlan(p)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(int(n + n/2)) // indentation adds about a third
	if err := writeIndented(&out, p, d); err != nil {
		return nil, err
	}
	c := *p
	c.Digest = d
	return &File{plan: &c, bytes: out.Bytes(), version: FormatVersion}, nil
}

// Write writes the plan file at path, atomically (temp file + rename).
func (f *File) Write(path string) error {
	if err := fsutil.WriteFileAtomic(path, f.bytes, 0o600); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return nil
}

// Read reads and verifies the plan file at path: format version first,
// then the digest, then the settings and graph. Errors are *FileError
// wrapping ErrNotPlan, ErrCorrupt, ErrFormatVersion, ErrDigest or
// ErrInvalid, or the I/O error.
func Read(path string) (*File, error) {
	b, err := fsutil.ReadFile(path, maxPlanFile)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	f, err := Decode(b)
	var fe *FileError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	return f, err
}

// maxPlanFile bounds a plan file (a 30,000-port plan is about 40 MB).
const maxPlanFile = 1 << 30

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

// Decode parses and verifies plan file bytes (see Read). The File keeps b.
func Decode(b []byte) (*File, error) {
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
	w, err := unmarshal(b)
	if err != nil {
		return nil, err
	}
	body, err := canonicalBody(w)
	if err != nil {
		return nil, &FileError{Err: ErrCorrupt, Detail: err.Error()}
	}
	if d := digestOf(body); d != w.Digest {
		return nil, &FileError{Err: ErrDigest, Detail: fmt.Sprintf("recorded %s, content hashes to %s", w.Digest, d)}
	}
	p := w.toPlan()
	// A digest can be recomputed after an edit: the settings must pass
	// the rules of a profile, and the graph must still be one a planner
	// could have made.
	if probs := plan.CheckSettings(p); len(probs) > 0 {
		return nil, &FileError{Err: ErrInvalid, Detail: strings.Join(probs, "; ")}
	}
	if err := plan.CheckGraph(p); err != nil {
		return nil, &FileError{Err: ErrCorrupt, Detail: err.Error()}
	}
	return &File{plan: p, bytes: b, version: w.FormatVersion}, nil
}

// unmarshal decodes the wire plan, refusing unknown fields and trailing
// data.
func unmarshal(b []byte) (*filePlan, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w filePlan
	if err := dec.Decode(&w); err != nil {
		return nil, &FileError{Err: ErrCorrupt, Detail: err.Error()}
	}
	if dec.More() {
		return nil, &FileError{Err: ErrCorrupt, Detail: "trailing data after the plan"}
	}
	return &w, nil
}

// Marshal is the wire form of a part of a plan that is no plan file (no
// digest, its graph not closed: a farm job's plan, see execute.Jobs.Plan),
// compact. Unmarshal reads it back.
func Marshal(p *plan.Plan) ([]byte, error) {
	b, err := json.Marshal(toFile(p, FormatVersion))
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	return b, nil
}

// Unmarshal reads what Marshal wrote. The settings and node names are
// checked as Decode checks them; the graph is not (it is a part).
func Unmarshal(b []byte) (*plan.Plan, error) {
	w, err := unmarshal(b)
	if err != nil {
		return nil, err
	}
	if w.FormatVersion != FormatVersion {
		return nil, &FileError{Err: ErrFormatVersion, Detail: fmt.Sprintf("version %d, want %d", w.FormatVersion, FormatVersion)}
	}
	p := w.toPlan()
	if probs := plan.CheckSettings(p); len(probs) > 0 {
		return nil, &FileError{Err: ErrInvalid, Detail: strings.Join(probs, "; ")}
	}
	return p, nil
}

// SameSettings reports whether a and b are the same settings but for
// their targets: whether they encode the same.
func SameSettings(a, b *plan.Settings) bool {
	ca, cb := *a, *b
	ca.Targets, cb.Targets = nil, nil
	ja, err1 := json.Marshal(toFile(&plan.Plan{Settings: ca}, FormatVersion).Profile)
	jb, err2 := json.Marshal(toFile(&plan.Plan{Settings: cb}, FormatVersion).Profile)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}
