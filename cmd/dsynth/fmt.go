package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/go-dsynth/dsynth/internal/fsutil"
	"github.com/go-dsynth/dsynth/spec"
)

func init() {
	register(&command{
		name:     "fmt",
		synopsis: "Rewrite profiles in canonical HCL formatting",
		usage:    "dsynth fmt [-check] [-diff] FILE|DIR...",
		flags: func(fs *flag.FlagSet) func([]string) error {
			check := fs.Bool("check", false, "only list the files that are not formatted and exit 1 if any; write nothing")
			diff := fs.Bool("diff", false, "print a diff of the formatting changes")
			return func(args []string) error {
				if len(args) == 0 {
					return fmt.Errorf("expected one or more profile files or directories (flags go before them)")
				}
				return runFmt(args, *check, *diff)
			}
		},
	})
}

// runFmt formats each file (a directory stands for its *.hcl files). It
// prints the name of every file that is (or, with check, would be)
// changed.
func runFmt(args []string, check, diff bool) error {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.hcl"))
		if err != nil {
			return err
		}
		files = append(files, m...)
	}
	unformatted, failed := 0, false
	for _, f := range files {
		src, err := fsutil.ReadFile(f, fsutil.MaxFileSize)
		if err != nil {
			return err
		}
		out, diags := spec.Format(f, src)
		if diags.HasErrors() {
			spec.WriteDiagnostics(stderr, &spec.Loaded{Files: map[string]*hcl.File{f: {Bytes: src}}}, diags)
			failed = true
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		unformatted++
		fmt.Fprintln(stdout, f)
		if diff {
			fmt.Fprint(stdout, unifiedDiff(f, string(src), string(out)))
		}
		if !check {
			st, err := os.Stat(f)
			if err != nil {
				return err
			}
			// Atomically: a failed write (a full disk) leaves the file as
			// it was.
			if err := fsutil.WriteFileAtomic(f, out, st.Mode().Perm()); err != nil {
				return fmt.Errorf("write %s: %w", f, err)
			}
		}
	}
	if failed {
		return errReported
	}
	if check && unformatted > 0 {
		return withCode(exitError, nil)
	}
	return nil
}

// unifiedDiff is a small line diff (LCS) of a and b with 3 lines of
// context, enough for profile-sized files.
func unifiedDiff(name, a, b string) string {
	x, y := splitLines(a), splitLines(b)
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // ' ', '-', '+'
		text string
		ai   int // line number in a (1-based) for ' ' and '-'
		bi   int // line number in b for ' ' and '+'
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, op{' ', x[i], i + 1, j + 1})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', x[i], i + 1, j + 1})
			i++
		default:
			ops = append(ops, op{'+', y[j], i + 1, j + 1})
			j++
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s (formatted)\n", name, name)
	const ctx = 3
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		start := max(k-ctx, 0)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*ctx || run == len(ops) {
				end = min(end+ctx, len(ops))
				break
			}
			end = run
		}
		var as, bs int
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				as++
			}
			if o.kind != '-' {
				bs++
			}
		}
		fmt.Fprintf(&sb, "@@ -%d,%d +%d,%d @@\n", ops[start].ai, as, ops[start].bi, bs)
		for _, o := range ops[start:end] {
			fmt.Fprintf(&sb, "%c%s\n", o.kind, o.text)
		}
		k = end
	}
	return sb.String()
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
