package spec

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diags with source snippets to w, in the style
// of hcl.NewDiagnosticTextWriter with two additions: the location line
// names file:line:col (hcl's plain writer gives only the line), and a
// caret line under the snippet marks the offending range (hcl marks it
// only with terminal colours).
func WriteDiagnostics(w io.Writer, l *Loaded, diags hcl.Diagnostics) {
	var files map[string]*hcl.File
	if l != nil {
		files = l.Files
	}
	for _, d := range diags {
		var buf bytes.Buffer
		wr := hcl.NewDiagnosticTextWriter(&buf, files, 78, false)
		_ = wr.WriteDiagnostic(d)
		_, _ = w.Write(annotate(buf.Bytes(), d))
	}
}

// annotate rewrites hcl's "  on FILE line N" header of one rendered
// diagnostic to "  on FILE:N:C" and puts a caret line under the snippet
// line where the subject starts.
func annotate(text []byte, d *hcl.Diagnostic) []byte {
	if d.Subject == nil {
		return text
	}
	r := d.Subject
	lines := strings.SplitAfter(string(text), "\n")
	header := fmt.Sprintf("  on %s line %d", r.Filename, r.Start.Line)
	snippet := fmt.Sprintf("%4d: ", r.Start.Line)
	var out strings.Builder
	headerDone, caretDone := false, false
	for _, ln := range lines {
		switch {
		case !headerDone && strings.HasPrefix(ln, header):
			headerDone = true
			ln = fmt.Sprintf("  on %s:%d:%d", r.Filename, r.Start.Line, r.Start.Column) + ln[len(header):]
			out.WriteString(ln)
		case headerDone && !caretDone && strings.HasPrefix(ln, snippet):
			caretDone = true
			out.WriteString(ln)
			out.WriteString(caretLine(strings.TrimSuffix(ln[len(snippet):], "\n"), r, len(snippet)))
		default:
			out.WriteString(ln)
		}
	}
	return []byte(out.String())
}

// caretLine marks the subject's columns on src (the subject's first
// line), keeping tabs so the carets line up.
func caretLine(src string, r *hcl.Range, indent int) string {
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", indent))
	runes := []rune(src)
	start := r.Start.Column - 1
	end := len(runes)
	if r.End.Line == r.Start.Line {
		end = r.End.Column - 1
	}
	start = min(max(start, 0), len(runes))
	end = min(max(end, start+1), len(runes)+1)
	for _, c := range runes[:start] {
		if c == '\t' {
			b.WriteRune('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteString(strings.Repeat("^", end-start))
	b.WriteByte('\n')
	return b.String()
}
