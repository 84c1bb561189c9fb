package spec

import "github.com/hashicorp/hcl/v2"

// maxNesting bounds how deeply brackets may nest in a profile. The HCL
// parser recurses once per level: a file nested 100,000 deep overflowed
// the stack. No real profile comes near this.
const maxNesting = 256

// checkNesting returns a diagnostic at the first bracket ((, [ or {)
// nested deeper than maxNesting in src, outside strings and comments, or
// nil.
func checkNesting(src []byte, filename string) *hcl.Diagnostic {
	depth, line, col := 0, 1, 1
	inString, escaped := false, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"' || c == '\n':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '#' || (c == '/' && i+1 < len(src) && src[i+1] == '/'):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			line, col = line+1, 0
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			for i += 2; i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/'); i++ {
				if src[i] == '\n' {
					line, col = line+1, 0
				}
			}
			i++
		case c == '(' || c == '[' || c == '{':
			if depth++; depth > maxNesting {
				pos := hcl.Pos{Line: line, Column: col, Byte: i}
				return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Too deeply nested",
					Detail:  "Brackets nest more than 256 levels deep here; no profile needs that many.",
					Subject: &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: line, Column: col + 1, Byte: i + 1}}}
			}
		case c == ')' || c == ']' || c == '}':
			depth--
		}
		if c == '\n' && !inString {
			line, col = line+1, 0
		}
		col++
	}
	return nil
}
