package planfile

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"

	"github.com/go-dsynth/dsynth/internal/fsutil"

	"github.com/go-dsynth/dsynth/plan"
)

// The encoder writes a plan file piece by piece, one node at a time, so
// that a 30,000-port plan never exists as a whole in JSON beside the plan:
// a first pass hashes the canonical body (compact JSON, digest ""), a
// second writes the indented file. Both give, byte for byte, what
// json.Marshal and json.MarshalIndent of the wire struct give (the tests
// compare them): the fields below are filePlan's, in its order.

// field is one top-level key of the plan file, in file order.
type field struct {
	key   string
	val   any
	omit  bool
	nodes bool // the "ports" array, written from the plan's nodes
}

func fields(w *filePlan) []field {
	return []field{
		{key: "format_version", val: w.FormatVersion},
		{key: "dsynth_version", val: w.DsynthVersion},
		{key: "digest", val: w.Digest},
		{key: "profile", val: &w.Profile},
		{key: "profile_source", val: w.ProfileSource},
		{key: "tree", val: &w.Tree},
		{key: "environment", val: &w.Environment},
		{key: "ports", nodes: true},
		{key: "pkg_node", val: w.PkgNode, omit: w.PkgNode == ""},
		{key: "order", val: w.Order},
	}
}

// writePlan writes head (its Ports unused) with nodes as a plan file
// body: compact, or indented as json.MarshalIndent(v, "", "  ") would.
func writePlan(out *bufio.Writer, head *filePlan, nodes []plan.Node, indent bool) error {
	marshal := func(v any, prefix string) ([]byte, error) {
		if indent {
			return json.MarshalIndent(v, prefix, "  ")
		}
		return json.Marshal(v)
	}
	nl := func(prefix string) {
		if indent {
			out.WriteString("\n" + prefix)
		}
	}
	kv := `":`
	if indent {
		kv = `": `
	}
	out.WriteByte('{')
	first := true
	for _, f := range fields(head) {
		if f.omit {
			continue
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		nl("  ")
		out.WriteString(`"` + f.key + kv)
		if !f.nodes {
			b, err := marshal(f.val, "  ")
			if err != nil {
				return fmt.Errorf("encode plan: %s: %w", f.key, err)
			}
			out.Write(b)
			continue
		}
		switch {
		case nodes == nil:
			out.WriteString("null")
		case len(nodes) == 0:
			out.WriteString("[]")
		default:
			out.WriteByte('[')
			for i := range nodes {
				if i > 0 {
					out.WriteByte(',')
				}
				nl("    ")
				fn := fileNodeOf(&nodes[i])
				b, err := marshal(&fn, "    ")
				if err != nil {
					return fmt.Errorf("encode plan: node %s: %w", nodes[i].ID, err)
				}
				out.Write(b)
			}
			nl("  ")
			out.WriteByte(']')
		}
	}
	nl("")
	out.WriteByte('}')
	return nil
}

// digestPlan is the digest of p's canonical body in the current format,
// and the body's size.
func digestPlan(p *plan.Plan) (string, int64, error) {
	head := toFileHead(p, FormatVersion)
	head.Digest = ""
	h := &countingHash{Hash: sha256.New()}
	bw := bufio.NewWriterSize(h, 64<<10)
	if err := writePlan(bw, head, p.Ports, false); err != nil {
		return "", 0, err
	}
	if err := bw.Flush(); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), h.n, nil
}

type countingHash struct {
	hash.Hash
	n int64
}

func (c *countingHash) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	return c.Hash.Write(b)
}

// WriteTo writes p's plan file to w as Encode makes it, one node at a
// time, and returns its digest. p is not modified.
func WriteTo(w io.Writer, p *plan.Plan) (digest string, err error) {
	d, _, err := digestPlan(p)
	if err != nil {
		return "", err
	}
	return d, writeIndented(w, p, d)
}

// writeIndented writes p's plan file with digest d to w.
func writeIndented(w io.Writer, p *plan.Plan, d string) error {
	head := toFileHead(p, FormatVersion)
	head.Digest = d
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := writePlan(bw, head, p.Ports, true); err != nil {
		return err
	}
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// WriteFile writes p's plan file at path, atomically (a temporary file in
// the same folder, synced, then renamed), one node at a time, and returns
// its digest. Nothing is left behind on an error.
func WriteFile(path string, p *plan.Plan) (digest string, err error) {
	d, _, err := digestPlan(p)
	if err != nil {
		return "", err
	}
	err = fsutil.WriteAtomic(path, 0o600, func(w io.Writer) error { return writeIndented(w, p, d) })
	if err != nil {
		return "", fmt.Errorf("write plan %s: %w", path, err)
	}
	return d, nil
}
