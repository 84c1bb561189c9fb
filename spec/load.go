package spec

import (
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/go-dsynth/dsynth/internal/fsutil"
)

// Options select a profile and set variables.
type Options struct {
	// Profile names the profile block; "" selects the only one.
	Profile string
	// Vars are -var arguments in command-line order, each "NAME=VALUE".
	Vars []string
	// VarFiles are -var-file arguments in command-line order.
	VarFiles []string

	// CPUs is the CPU count used to resolve workers.count = "auto"
	// (0: runtime.NumCPU()).
	CPUs int
	// GOOS selects the default make_command (""; runtime.GOOS).
	GOOS string
	// Getenv reads host environment variables for env() (nil: os.LookupEnv).
	Getenv func(string) (string, bool)
}

// Loaded is the result of Load.
type Loaded struct {
	Profile *Profile
	// Source is the profile file's bytes, as read.
	Source []byte
	// Files maps file names to parsed files, for rendering diagnostics.
	Files map[string]*hcl.File
	// Names lists the profile blocks of the file, in file order.
	Names []string
}

// Load reads the profile file at path and resolves the selected profile.
// It reports every problem it finds as a diagnostic; the Profile is only
// set when there is no error. The returned Loaded is never nil, so that
// diagnostics can always be rendered with their source.
func Load(path string, opt Options) (*Loaded, hcl.Diagnostics) {
	ld := newLoader(opt)
	out := &Loaded{Files: ld.parser.Files()}
	abs, err := filepath.Abs(path)
	if err != nil {
		return out, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid profile path", Detail: err.Error()}}
	}
	src, err := fsutil.ReadFile(path, fsutil.MaxFileSize)
	if err != nil {
		return out, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Failed to read profile", Detail: err.Error()}}
	}
	out.Source = src
	ld.file = abs
	ld.dir = filepath.Dir(abs)
	// Diagnostics name the file as the user gave it.
	if d := checkNesting(src, path); d != nil {
		return out, hcl.Diagnostics{d}
	}
	f, diags := ld.parser.ParseHCL(src, path)
	ld.diags = append(ld.diags, diags...)
	if diags.HasErrors() {
		out.Files = ld.parser.Files()
		return out, ld.diags
	}
	ld.filename = path
	prof, names := ld.load(f.Body)
	out.Names = names
	out.Files = ld.parser.Files()
	for name, src := range ld.extra {
		out.Files[name] = &hcl.File{Bytes: src}
	}
	if !ld.diags.HasErrors() {
		out.Profile = prof
	}
	sortDiags(ld.diags)
	return out, ld.diags
}

// sortDiags orders diagnostics for reading: those without a source
// position (command-line problems) first, then by file, line and column.
func sortDiags(d hcl.Diagnostics) {
	sort.SliceStable(d, func(i, j int) bool {
		a, b := d[i].Subject, d[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		case a.Start.Line != b.Start.Line:
			return a.Start.Line < b.Start.Line
		}
		return a.Start.Column < b.Start.Column
	})
}

// loader holds the state of one Load.
type loader struct {
	opt      Options
	parser   *hclparse.Parser
	file     string // absolute path of the profile file
	filename string // as given
	dir      string // its folder
	diags    hcl.Diagnostics
	// extra holds non-HCL sources (ports_file, -var values) for snippets.
	extra map[string][]byte

	vars      map[string]*variable
	varVals   map[string]cty.Value
	locals    map[string]*hcl.Attribute
	localVals map[string]cty.Value
	// envRead records env() reads: those of the locals, then (a copy
	// per profile) those of the profile being decoded.
	envRead map[string]string
	// skipped counts expressions not evaluated because something they
	// depend on failed earlier (and was diagnosed then).
	skipped int
	ctx     *hcl.EvalContext
}

func newLoader(opt Options) *loader {
	if opt.CPUs <= 0 {
		opt.CPUs = runtime.NumCPU()
	}
	if opt.GOOS == "" {
		opt.GOOS = runtime.GOOS
	}
	ld := &loader{
		opt:       opt,
		parser:    hclparse.NewParser(),
		extra:     map[string][]byte{},
		vars:      map[string]*variable{},
		varVals:   map[string]cty.Value{},
		locals:    map[string]*hcl.Attribute{},
		localVals: map[string]cty.Value{},
		envRead:   map[string]string{},
	}
	ld.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{},
		Functions: functions(func(k, v string) { ld.envRead[k] = v }, opt.Getenv),
	}
	ld.refreshCtx()
	return ld
}

func (ld *loader) refreshCtx() {
	ld.ctx.Variables["var"] = cty.ObjectVal(ld.varVals)
	ld.ctx.Variables["local"] = cty.ObjectVal(ld.localVals)
}

// broke reports whether r is a broken rule, diagnosed at subject.
func (ld *loader) broke(subject *hcl.Range, r *Rule) bool {
	if r == nil {
		return false
	}
	ld.errorf(subject, r.Summary, "%s", r.Detail)
	return true
}

func (ld *loader) errorf(subject *hcl.Range, summary, format string, args ...any) {
	ld.diags = append(ld.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject,
	})
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "profile", LabelNames: []string{"name"}},
	},
}

// load decodes the file body: variables, locals, then the selected profile.
func (ld *loader) load(body hcl.Body) (*Profile, []string) {
	content, diags := body.Content(fileSchema)
	ld.diags = append(ld.diags, diags...)

	var profiles []*hcl.Block
	byName := map[string]*hcl.Block{}
	var names []string
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			ld.declareVariable(b)
		case "locals":
			ld.declareLocals(b)
		case "profile":
			name := b.Labels[0]
			if prev, dup := byName[name]; dup {
				ld.errorf(b.LabelRanges[0].Ptr(), "Duplicate profile block",
					"A profile named %q was already declared at %s.", name, prev.DefRange)
				continue
			}
			byName[name] = b
			profiles = append(profiles, b)
			names = append(names, name)
		}
	}
	ld.assignVariables()
	ld.evalLocals()

	var sel *hcl.Block
	switch {
	case len(profiles) == 0:
		r := body.MissingItemRange()
		ld.errorf(&r, "No profile block", `The file declares no profile "NAME" {} block.`)
	case ld.opt.Profile != "":
		sel = byName[ld.opt.Profile]
		if sel == nil {
			ld.errorf(nil, "Unknown profile",
				"There is no profile named %q in %s; the file declares: %s.", ld.opt.Profile, ld.filename, quoteList(names))
		}
	case len(profiles) == 1:
		sel = profiles[0]
	default:
		ld.errorf(profiles[1].DefRange.Ptr(), "Several profiles: choose one with -profile",
			"The file declares %d profiles: %s. Select one with -profile NAME.", len(names), quoteList(names))
	}
	// Every profile is decoded, so that one run reports all the errors of
	// the file; only the selected one is returned.
	localsEnv := ld.envRead
	var prof *Profile
	for _, b := range profiles {
		ld.envRead = maps.Clone(localsEnv)
		p := ld.decodeProfile(b)
		if len(ld.envRead) > 0 {
			p.EnvRead = ld.envRead
		}
		if b == sel {
			prof = p
		}
	}
	return prof, names
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// path resolves a profile path against the profile file's folder.
func (ld *loader) path(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(ld.dir, p)
	}
	return filepath.Clean(p)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
