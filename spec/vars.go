package spec

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/go-dsynth/dsynth/internal/fsutil"
)

// variable is a declared input variable.
type variable struct {
	name    string
	typ     cty.Type
	def     cty.Value // cty.NilVal without default
	decl    hcl.Range
	desc    string
	val     cty.Value
	hasVal  bool
	invalid bool
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
	},
}

func (ld *loader) declareVariable(b *hcl.Block) {
	name := b.Labels[0]
	if !hclsyntax.ValidIdentifier(name) {
		ld.errorf(b.LabelRanges[0].Ptr(), "Invalid variable name",
			"%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name)
		return
	}
	if prev, dup := ld.vars[name]; dup {
		ld.errorf(b.LabelRanges[0].Ptr(), "Duplicate variable declaration",
			"A variable named %q was already declared at %s.", name, prev.decl)
		return
	}
	v := &variable{name: name, typ: cty.DynamicPseudoType, decl: b.DefRange}
	ld.vars[name] = v
	content, diags := b.Body.Content(variableSchema)
	ld.diags = append(ld.diags, diags...)
	if a := content.Attributes["type"]; a != nil {
		ty, diags := typeexpr.TypeConstraint(a.Expr)
		ld.diags = append(ld.diags, diags...)
		if diags.HasErrors() {
			v.invalid = true
		} else {
			v.typ = ty
		}
	}
	if a := content.Attributes["description"]; a != nil {
		if val, ok := ld.evalConst(a.Expr, "a variable description"); ok {
			s, err := convert.Convert(val, cty.String)
			if err != nil || s.IsNull() {
				ld.errorf(a.Expr.Range().Ptr(), "Incorrect attribute value type", "The description must be a string.")
			} else {
				v.desc = s.AsString()
			}
		}
	}
	if a := content.Attributes["default"]; a != nil {
		if val, ok := ld.evalConst(a.Expr, "a variable default"); ok {
			if cv, ok := ld.convertVar(v, val, a.Expr.Range()); ok {
				v.def = cv
			} else {
				v.invalid = true
			}
		} else {
			v.invalid = true
		}
	}
}

// evalConst evaluates an expression that may call functions but not
// reference variables or locals (variable defaults, -var and -var-file
// values).
func (ld *loader) evalConst(expr hcl.Expression, what string) (cty.Value, bool) {
	if tr := expr.Variables(); len(tr) > 0 {
		ld.errorf(tr[0].SourceRange().Ptr(), "Variables not allowed",
			"References are not allowed in %s: it must be a constant value.", what)
		return cty.NilVal, false
	}
	val, diags := expr.Value(&hcl.EvalContext{Functions: ld.ctx.Functions})
	ld.diags = append(ld.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	return val, true
}

func (ld *loader) convertVar(v *variable, val cty.Value, rng hcl.Range) (cty.Value, bool) {
	cv, err := convert.Convert(val, v.typ)
	if err != nil {
		ld.errorf(rng.Ptr(), "Invalid value for variable",
			"The value for variable %q is not compatible with its type %s: %s.", v.name, typeexpr.TypeString(v.typ), err)
		return cty.NilVal, false
	}
	return cv, true
}

// assignVariables gives each variable its value: the default, then
// -var-file files in order, then -var options in order (the last wins).
func (ld *loader) assignVariables() {
	for _, v := range ld.vars {
		if v.def != cty.NilVal {
			v.val, v.hasVal = v.def, true
		}
	}
	for _, file := range ld.opt.VarFiles {
		ld.readVarFile(file)
	}
	for _, arg := range ld.opt.Vars {
		ld.setVarArg(arg)
	}
	for _, name := range sortedKeys(ld.vars) {
		v := ld.vars[name]
		switch {
		case v.invalid:
			ld.varVals[name] = cty.DynamicVal
		case !v.hasVal:
			ld.errorf(v.decl.Ptr(), "No value for required variable",
				"The variable %q has no default: set it with -var %s=VALUE or in a -var-file.", name, name)
			ld.varVals[name] = cty.DynamicVal
		default:
			ld.varVals[name] = v.val
		}
	}
	ld.refreshCtx()
}

func (ld *loader) readVarFile(file string) {
	src, err := fsutil.ReadFile(file, fsutil.MaxFileSize)
	if err != nil {
		ld.errorf(nil, "Failed to read variables file", "%v", err)
		return
	}
	if d := checkNesting(src, file); d != nil {
		ld.diags = append(ld.diags, d)
		return
	}
	f, diags := ld.parser.ParseHCL(src, file)
	ld.diags = append(ld.diags, diags...)
	if diags.HasErrors() {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	ld.diags = append(ld.diags, diags...)
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		v := ld.vars[name]
		if v == nil {
			ld.errorf(a.NameRange.Ptr(), "Value for undeclared variable",
				"The profile declares no variable %q (variable %q {} block).%s", name, name, ld.varHint(name))
			continue
		}
		val, ok := ld.evalConst(a.Expr, "a variables file")
		if !ok {
			v.invalid = true
			continue
		}
		if cv, ok := ld.convertVar(v, val, a.Expr.Range()); ok {
			v.val, v.hasVal = cv, true
		} else {
			v.invalid = true
		}
	}
}

// setVarArg applies one -var NAME=VALUE. Like terraform, a variable of a
// primitive type (or without a type) takes VALUE literally; other types
// parse VALUE as an HCL expression.
func (ld *loader) setVarArg(arg string) {
	name, raw, ok := strings.Cut(arg, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		ld.errorf(nil, "Invalid -var option",
			"The -var option %q is not NAME=VALUE.", arg)
		return
	}
	v := ld.vars[name]
	if v == nil {
		ld.errorf(nil, "Value for undeclared variable",
			"-var %s: the profile declares no variable %q (variable %q {} block).%s", arg, name, name, ld.varHint(name))
		return
	}
	fake := fmt.Sprintf("<value for var.%s>", name)
	ld.extra[fake] = []byte(raw)
	rng := hcl.Range{Filename: fake, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: len(raw) + 1, Byte: len(raw)}}
	var val cty.Value
	if v.typ == cty.DynamicPseudoType || v.typ.IsPrimitiveType() {
		val = cty.StringVal(raw)
	} else {
		expr, diags := hclsyntax.ParseExpression([]byte(raw), fake, hcl.InitialPos)
		ld.diags = append(ld.diags, diags...)
		if diags.HasErrors() {
			v.invalid = true
			return
		}
		val, ok = ld.evalConst(expr, "a -var value")
		if !ok {
			v.invalid = true
			return
		}
	}
	if cv, ok := ld.convertVar(v, val, rng); ok {
		v.val, v.hasVal = cv, true
	} else {
		v.invalid = true
	}
}

func (ld *loader) declareLocals(b *hcl.Block) {
	attrs, diags := b.Body.JustAttributes()
	ld.diags = append(ld.diags, diags...)
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		if prev, dup := ld.locals[name]; dup {
			ld.errorf(a.NameRange.Ptr(), "Duplicate local value",
				"A local value named %q was already defined at %s.", name, prev.NameRange)
			continue
		}
		ld.locals[name] = a
	}
}

// evalLocals evaluates the locals in dependency order. A cycle is reported
// on every local that is part of it.
func (ld *loader) evalLocals() {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	failed := map[string]bool{}
	inCycle := map[string]bool{}
	var stack []string
	var visit func(name string) bool
	visit = func(name string) bool {
		switch state[name] {
		case done:
			return !failed[name]
		case visiting:
			i := len(stack) - 1
			for stack[i] != name {
				i--
			}
			cycle := append(append([]string{}, stack[i:]...), name)
			for _, n := range stack[i:] {
				if !inCycle[n] {
					inCycle[n] = true
					ld.errorf(ld.locals[n].NameRange.Ptr(), "Cycle in local values",
						"local.%s depends on itself: %s.", n, "local."+strings.Join(cycle, " -> local."))
				}
			}
			return false
		}
		state[name] = visiting
		stack = append(stack, name)
		a := ld.locals[name]
		ok := ld.checkRefs(a.Expr)
		if ok {
			for _, tr := range a.Expr.Variables() {
				if dep := refName(tr, "local"); dep != "" && ld.locals[dep] != nil {
					if !visit(dep) {
						ok = false
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		val := cty.DynamicVal
		if ok {
			ld.refreshCtx()
			v, diags := a.Expr.Value(ld.ctx)
			ld.diags = append(ld.diags, diags...)
			if diags.HasErrors() {
				ok = false
			} else {
				val = v
			}
		}
		failed[name] = !ok || inCycle[name]
		ld.localVals[name] = val
		return !failed[name]
	}
	for _, name := range sortedKeys(ld.locals) {
		visit(name)
	}
	ld.refreshCtx()
}

// refName returns NAME for a traversal root.NAME, else "".
func refName(tr hcl.Traversal, root string) string {
	if tr.RootName() != root || len(tr) < 2 {
		return ""
	}
	if a, ok := tr[1].(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

// checkRefs reports references to undeclared variables and locals and to
// anything other than var.NAME and local.NAME.
func (ld *loader) checkRefs(expr hcl.Expression) bool {
	ok := true
	for _, tr := range expr.Variables() {
		switch root := tr.RootName(); root {
		case "var", "local":
			name := refName(tr, root)
			if name == "" {
				ld.errorf(tr.SourceRange().Ptr(), "Invalid reference",
					"A reference to %s must name one: %s.NAME.", root, root)
				ok = false
				continue
			}
			if root == "var" && ld.vars[name] == nil {
				ld.errorf(tr.SourceRange().Ptr(), "Reference to undeclared input variable",
					"There is no variable %q {} block in this file.%s", name, ld.varHint(name))
				ok = false
			}
			if root == "local" && ld.locals[name] == nil {
				ld.errorf(tr.SourceRange().Ptr(), "Reference to undeclared local value",
					"No locals block defines %q.", name)
				ok = false
			}
		default:
			ld.errorf(tr.SourceRange().Ptr(), "Unknown reference",
				"%q is not something a profile can refer to: only var.NAME and local.NAME are.", root)
			ok = false
		}
	}
	return ok
}

// eval evaluates an expression of the profile. It returns false when the
// expression is invalid (diagnosed) or depends on something that failed
// earlier (already diagnosed).
func (ld *loader) eval(expr hcl.Expression) (cty.Value, bool) {
	if !ld.checkRefs(expr) {
		return cty.NilVal, false
	}
	val, diags := expr.Value(ld.ctx)
	ld.diags = append(ld.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if !val.IsWhollyKnown() {
		ld.skipped++
		return cty.NilVal, false
	}
	return val, true
}

// varHint is " Did you mean "x"?" for a mistyped variable name, or "".
func (ld *loader) varHint(name string) string {
	names := make([]string, 0, len(ld.vars))
	for n := range ld.vars {
		names = append(names, n)
	}
	if s := Suggest(name, names); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}
