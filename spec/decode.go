package spec

import (
	"fmt"
	"math"
	"math/big"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Accepted values.
var (
	PackageSuffixes = []string{".pkg", ".txz", ".tzst", ".tgz", ".tar"}
	Networks        = []string{NetworkNone, NetworkFetch, NetworkAll}
	Isolations      = []string{"chroot"}
	// SlotMounts are the slot's own mount points: an extra mount may not
	// be one of them or lie below one of them.
	SlotMounts = []string{"/xports", "/distfiles", "/packages", "/options", "/construction", "/usr/local", "/proc", "/dev", "/tmp"}
)

// Defaults.
const (
	DefaultPackageSuffix = ".pkg"
	DefaultSystemDir     = "/"
	DefaultIsolation     = "chroot"
	DefaultNetwork       = NetworkFetch
	DefaultMaxJobs       = 1
	MaxWorkers           = 256
	MaxJobsLimit         = 1024
)

var profileSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "ports_dir", Required: true},
		{Name: "build_base", Required: true},
		{Name: "packages_dir"},
		{Name: "distfiles_dir"},
		{Name: "options_dir"},
		{Name: "logs_dir"},
		{Name: "records"},
		{Name: "system_dir"},
		{Name: "package_suffix"},
		{Name: "make_command"},
		{Name: "make_conf"},
		{Name: "ports"},
		{Name: "ports_file"},
		{Name: "exclude"},
		{Name: "all_flavors"},
		{Name: "tests"},
		{Name: "rebuild"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "port", LabelNames: []string{"origin"}},
		{Type: "workers"},
		{Type: "environment"},
		{Type: "hooks"},
		{Type: "repository"},
		{Type: "executor", LabelNames: []string{"kind"}},
	},
}

var executorSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address"}, {Name: "namespace"}, {Name: "listen"}, {Name: "url"}, {Name: "heartbeat_timeout"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "tls"}},
}

var tlsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "ca_file"}, {Name: "cert_file"}, {Name: "key_file"}, {Name: "server_name"},
		{Name: "listen_cert_file"}, {Name: "listen_key_file"},
	},
}

var repositorySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "publish_after_run"}, {Name: "signing_key"}, {Name: "signing_command"},
	},
}

var hooksSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "run_start"}, {Name: "run_end"}, {Name: "pkg_success"}, {Name: "pkg_failure"},
		{Name: "pkg_ignored"}, {Name: "pkg_skipped"}, {Name: "timeout"},
	},
}

var portSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "options_set"},
		{Name: "options_unset"},
		{Name: "make_env"},
	},
}

var workersSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "count"},
		{Name: "max_jobs"},
		{Name: "tmpfs_work"},
		{Name: "tmpfs_localbase"},
		{Name: "phase_timeout"},
		{Name: "idle_timeout"},
		{Name: "nice"},
		{Name: "throttle"},
		{Name: "max_load"},
		{Name: "max_swap"},
		{Name: "min_free_memory"},
		{Name: "ccache_dir"},
		{Name: "ccache_size"},
	},
}

var environmentSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "isolation"},
		{Name: "network"},
		{Name: "env"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "mount", LabelNames: []string{"target"}},
	},
}

var mountSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "source"},
		{Name: "readonly"},
	},
}

func (ld *loader) decodeProfile(b *hcl.Block) *Profile {
	p := &Profile{
		Name:          b.Labels[0],
		File:          ld.file,
		SystemDir:     DefaultSystemDir,
		PackageSuffix: DefaultPackageSuffix,
		MakeCommand:   defaultMake(ld.opt.GOOS),
		MakeConf:      map[string]string{},
		Targets:       []string{},
		AllFlavors:    true,
		Ports:         map[string]PortSettings{},
		Workers: Workers{
			Count:   autoWorkers(ld.opt.CPUs),
			MaxJobs: DefaultMaxJobs,
		},
		Environment: Environment{
			Isolation: DefaultIsolation,
			Network:   DefaultNetwork,
			Env:       map[string]string{},
			Mounts:    []Mount{},
		},
	}
	errorsBefore, skippedBefore := errorCount(ld.diags), ld.skipped
	c, diags := b.Body.Content(profileSchema)
	ld.diags = append(ld.diags, diags...)
	a := c.Attributes

	ld.pathAttr(a["ports_dir"], &p.PortsDir)
	ld.pathAttr(a["build_base"], &p.BuildBase)
	if p.BuildBase != "" {
		p.PackagesDir = filepath.Join(p.BuildBase, "packages")
		p.DistfilesDir = filepath.Join(p.BuildBase, "distfiles")
		p.OptionsDir = filepath.Join(p.BuildBase, "options")
		p.LogsDir = filepath.Join(p.BuildBase, "logs")
		p.Records = filepath.Join(p.BuildBase, "records.db")
	}
	ld.pathAttr(a["packages_dir"], &p.PackagesDir)
	ld.pathAttr(a["distfiles_dir"], &p.DistfilesDir)
	ld.pathAttr(a["options_dir"], &p.OptionsDir)
	ld.pathAttr(a["logs_dir"], &p.LogsDir)
	ld.pathAttr(a["records"], &p.Records)
	ld.pathAttr(a["system_dir"], &p.SystemDir)
	ld.enumAttr(a["package_suffix"], &p.PackageSuffix, PackageSuffixes, "package suffix")
	if s, ok := ld.stringAttr(a["make_command"]); ok {
		if !ld.broke(a["make_command"].Expr.Range().Ptr(), makeCommandRule(s)) {
			p.MakeCommand = s
		}
	}
	ld.mapAttr(a["make_conf"], p.MakeConf)
	if v, ok := ld.boolAttr(a["tests"]); ok {
		p.Tests = v
	}
	ld.enumAttr(a["rebuild"], &p.Rebuild, RebuildPolicies, "rebuild policy")
	if p.Rebuild == RebuildRecipe {
		p.Rebuild = "" // the default, spelled out
	}
	if v, ok := ld.boolAttr(a["all_flavors"]); ok {
		p.AllFlavors = v
	}
	if attr := a["exclude"]; attr != nil {
		vals, ranges := ld.stringList(attr)
		seen := map[string]bool{}
		for i, x := range vals {
			if err := CheckExclude(x); err != nil {
				ld.errorf(ranges[i].Ptr(), "Invalid exclude pattern", "%v.", err)
				continue
			}
			if !seen[x] {
				seen[x] = true
				p.Exclude = append(p.Exclude, x)
			}
		}
		sort.Strings(p.Exclude)
	}

	targets := map[string]bool{}
	for _, o := range ld.originList(a["ports"]) {
		targets[o] = true
	}
	if attr := a["ports_file"]; attr != nil {
		var pf string
		ld.pathAttr(attr, &pf)
		if pf != "" {
			p.PortsFile = pf
			for _, o := range ld.readPortsFile(pf, attr.Expr.Range()) {
				targets[o] = true
			}
		}
	}

	seenPort := map[string]*hcl.Block{}
	var workers, env, hooks, repo, executor *hcl.Block
	for _, blk := range c.Blocks {
		switch blk.Type {
		case "port":
			origin := blk.Labels[0]
			if ld.broke(blk.LabelRanges[0].Ptr(), portBlockRule(origin)) {
				continue
			}
			if prev := seenPort[origin]; prev != nil {
				ld.errorf(blk.LabelRanges[0].Ptr(), "Duplicate port block",
					"A port block for %q was already declared at %s.", origin, prev.DefRange)
				continue
			}
			seenPort[origin] = blk
			p.Ports[origin] = ld.decodePort(blk)
			targets[origin] = true
		case "workers":
			if workers != nil {
				ld.errorf(blk.DefRange.Ptr(), "Duplicate workers block",
					"Only one workers block is allowed; the first is at %s.", workers.DefRange)
				continue
			}
			workers = blk
			ld.decodeWorkers(blk, &p.Workers)
		case "environment":
			if env != nil {
				ld.errorf(blk.DefRange.Ptr(), "Duplicate environment block",
					"Only one environment block is allowed; the first is at %s.", env.DefRange)
				continue
			}
			env = blk
			ld.decodeEnvironment(blk, &p.Environment)
		case "hooks":
			if hooks != nil {
				ld.errorf(blk.DefRange.Ptr(), "Duplicate hooks block",
					"Only one hooks block is allowed; the first is at %s.", hooks.DefRange)
				continue
			}
			hooks = blk
			p.Hooks = ld.decodeHooks(blk)
		case "repository":
			if repo != nil {
				ld.errorf(blk.DefRange.Ptr(), "Duplicate repository block",
					"Only one repository block is allowed; the first is at %s.", repo.DefRange)
				continue
			}
			repo = blk
			p.Repository = ld.decodeRepository(blk)
		case "executor":
			if executor != nil {
				ld.errorf(blk.DefRange.Ptr(), "Duplicate executor block",
					"Only one executor block is allowed; the first is at %s.", executor.DefRange)
				continue
			}
			executor = blk
			if kind := blk.Labels[0]; kind != ExecutorTemporal {
				ld.errorf(blk.LabelRanges[0].Ptr(), "Unknown executor",
					"There is no executor %q: the one executor besides the local slots is %q.", kind, ExecutorTemporal)
				continue
			}
			p.Executor = ld.decodeExecutor(blk)
		}
	}

	if targets[AllPorts] {
		p.Targets = []string{AllPorts}
	} else {
		for o := range targets {
			p.Targets = append(p.Targets, o)
		}
		sort.Strings(p.Targets)
	}
	if len(p.Targets) == 0 && errorCount(ld.diags) == errorsBefore && ld.skipped == skippedBefore {
		ld.broke(b.DefRange.Ptr(), noPortsRule(p.Name))
	}
	return p
}

func errorCount(d hcl.Diagnostics) int {
	n := 0
	for _, x := range d {
		if x.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

func defaultMake(goos string) string {
	switch goos {
	case "freebsd", "dragonfly", "netbsd", "openbsd":
		return "make"
	}
	return "bmake"
}

func autoWorkers(cpus int) int {
	n := cpus/2 + 1
	if n > MaxWorkers {
		n = MaxWorkers
	}
	return n
}

func (ld *loader) decodePort(b *hcl.Block) PortSettings {
	ps := PortSettings{OptionsSet: []string{}, OptionsUnset: []string{}, MakeEnv: map[string]string{}}
	c, diags := b.Body.Content(portSchema)
	ld.diags = append(ld.diags, diags...)
	set := map[string]bool{}
	for _, key := range []string{"options_set", "options_unset"} {
		attr := c.Attributes[key]
		vals, ranges := ld.stringList(attr)
		var good []string
		for i, o := range vals {
			switch {
			case ld.broke(ranges[i].Ptr(), optionRule(o)):
			case key == "options_unset" && set[o]:
				ld.broke(ranges[i].Ptr(), optionBothRule(o, b.Labels[0]))
			default:
				if key == "options_set" {
					set[o] = true
				}
				good = append(good, o)
			}
		}
		sort.Strings(good)
		good = slices.Compact(good)
		if key == "options_set" {
			ps.OptionsSet = append(ps.OptionsSet, good...)
		} else {
			ps.OptionsUnset = append(ps.OptionsUnset, good...)
		}
	}
	ld.mapAttr(c.Attributes["make_env"], ps.MakeEnv)
	return ps
}

func (ld *loader) decodeWorkers(b *hcl.Block, w *Workers) {
	c, diags := b.Body.Content(workersSchema)
	ld.diags = append(ld.diags, diags...)
	a := c.Attributes
	if attr := a["count"]; attr != nil {
		if v, ok := ld.eval(attr.Expr); ok && !v.IsNull() {
			if v.Type() == cty.String && v.AsString() == "auto" {
				w.Count = autoWorkers(ld.opt.CPUs)
			} else if n, ok := ld.intValue(attr, v, 1, MaxWorkers, `a number or "auto"`); ok {
				w.Count = n
			}
		}
	}
	if n, ok := ld.intAttr(a["max_jobs"], 1, MaxJobsLimit); ok {
		w.MaxJobs = n
	}
	if n, ok := ld.intAttr(a["nice"], -20, 20); ok {
		w.Nice = n
	}
	ld.sizeAttr(a["tmpfs_work"], &w.TmpfsWork)
	ld.sizeAttr(a["tmpfs_localbase"], &w.TmpfsLocalbase)
	ld.durationAttr(a["phase_timeout"], &w.PhaseTimeout)
	ld.durationAttr(a["idle_timeout"], &w.IdleTimeout)
	if v, ok := ld.boolAttr(a["throttle"]); ok {
		w.NoThrottle = !v
	}
	if attr := a["max_load"]; attr != nil {
		if v, ok := ld.typed(attr, cty.Number, "number"); ok {
			f, _ := v.AsBigFloat().Float64()
			if f < 0.5 || f > 100 {
				ld.errorf(attr.Expr.Range().Ptr(), "Value out of range", "max_load must be between 0.5 and 100 (load average per CPU), got %s.", v.AsBigFloat().Text('g', -1))
			} else {
				w.MaxLoad = f
			}
		}
	}
	if n, ok := ld.intAttr(a["max_swap"], 1, 100); ok {
		w.MaxSwap = n
	}
	ld.sizeAttr(a["min_free_memory"], &w.MinFreeMemory)
	ld.pathAttr(a["ccache_dir"], &w.CCacheDir)
	ld.sizeAttr(a["ccache_size"], &w.CCacheSize)
}

func (ld *loader) decodeHooks(b *hcl.Block) *Hooks {
	c, diags := b.Body.Content(hooksSchema)
	ld.diags = append(ld.diags, diags...)
	a := c.Attributes
	h := &Hooks{Timeout: DefaultHookTimeout}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"run_start", &h.RunStart}, {"run_end", &h.RunEnd}, {"pkg_success", &h.PkgSuccess},
		{"pkg_failure", &h.PkgFailure}, {"pkg_ignored", &h.PkgIgnored}, {"pkg_skipped", &h.PkgSkipped}} {
		ld.pathAttr(a[f.name], f.dst)
	}
	if attr := a["timeout"]; attr != nil {
		var d time.Duration
		ld.durationAttr(attr, &d)
		if d != 0 && (d < time.Second || d > time.Hour) {
			ld.errorf(attr.Expr.Range().Ptr(), "Value out of range", "timeout: a hook may run between 1s and 1h, got %s.", d)
		} else if d != 0 {
			h.Timeout = d
		}
	}
	return h
}

func (ld *loader) decodeExecutor(b *hcl.Block) *Executor {
	c, diags := b.Body.Content(executorSchema)
	ld.diags = append(ld.diags, diags...)
	a := c.Attributes
	e := &Executor{Kind: ExecutorTemporal, Address: DefaultTemporalAddress, Namespace: "default",
		Listen: DefaultFarmListen, HeartbeatTimeout: DefaultHeartbeatTimeout}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"address", &e.Address}, {"namespace", &e.Namespace}, {"listen", &e.Listen}, {"url", &e.URL}} {
		attr := a[f.name]
		v, ok := ld.stringAttr(attr)
		if !ok {
			continue
		}
		if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t\n") {
			ld.errorf(attr.Expr.Range().Ptr(), "Invalid executor setting", "%s must be a non-empty value without spaces, got %q.", f.name, v)
			continue
		}
		if (f.name == "address" || f.name == "listen") && !strings.Contains(v, ":") {
			ld.errorf(attr.Expr.Range().Ptr(), "Invalid executor setting", "%s must be HOST:PORT, got %q.", f.name, v)
			continue
		}
		if f.name == "url" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			ld.errorf(attr.Expr.Range().Ptr(), "Invalid executor setting", "url must start with http:// or https://, got %q.", v)
			continue
		}
		*f.dst = v
	}
	if attr := a["heartbeat_timeout"]; attr != nil {
		var d time.Duration
		ld.durationAttr(attr, &d)
		if d != 0 && (d < time.Second || d > time.Hour) {
			ld.errorf(attr.Expr.Range().Ptr(), "Value out of range", "heartbeat_timeout: between 1s and 1h, got %s.", d)
		} else if d != 0 {
			e.HeartbeatTimeout = d
		}
	}
	for _, blk := range c.Blocks {
		if e.TLS != nil {
			ld.errorf(blk.DefRange.Ptr(), "Duplicate tls block", "Only one tls block is allowed in an executor block.")
			continue
		}
		tc, diags := blk.Body.Content(tlsSchema)
		ld.diags = append(ld.diags, diags...)
		t := &TLS{}
		for _, f := range []struct {
			name string
			dst  *string
		}{{"ca_file", &t.CAFile}, {"cert_file", &t.CertFile}, {"key_file", &t.KeyFile},
			{"listen_cert_file", &t.ListenCertFile}, {"listen_key_file", &t.ListenKeyFile}} {
			ld.pathAttr(tc.Attributes[f.name], f.dst)
		}
		if v, ok := ld.stringAttr(tc.Attributes["server_name"]); ok {
			t.ServerName = v
		}
		if (t.CertFile == "") != (t.KeyFile == "") {
			ld.errorf(blk.DefRange.Ptr(), "Incomplete tls block", "cert_file and key_file go together (a client certificate and its key).")
		}
		if (t.ListenCertFile == "") != (t.ListenKeyFile == "") {
			ld.errorf(blk.DefRange.Ptr(), "Incomplete tls block", "listen_cert_file and listen_key_file go together (the package server's certificate and key).")
		}
		e.TLS = t
	}
	if e.URL == "" {
		scheme := "http://"
		if e.TLS != nil && e.TLS.ListenCertFile != "" {
			scheme = "https://"
		}
		e.URL = scheme + e.Listen
	}
	return e
}

func (ld *loader) decodeRepository(b *hcl.Block) *Repository {
	c, diags := b.Body.Content(repositorySchema)
	ld.diags = append(ld.diags, diags...)
	a := c.Attributes
	r := &Repository{PublishAfterRun: true}
	if v, ok := ld.boolAttr(a["publish_after_run"]); ok {
		r.PublishAfterRun = v
	}
	ld.pathAttr(a["signing_key"], &r.SigningKey)
	if attr := a["signing_command"]; attr != nil {
		if s, ok := ld.stringAttr(attr); ok {
			if strings.TrimSpace(s) == "" {
				ld.errorf(attr.Expr.Range().Ptr(), "Invalid signing command",
					"signing_command is empty: give the command that signs the catalog digest, or remove the attribute.")
			} else if strings.ContainsAny(s, "\n\x00") {
				ld.errorf(attr.Expr.Range().Ptr(), "Invalid signing command",
					"signing_command must be one line (pkg runs it with sh -c).")
			} else {
				r.SigningCommand = s
			}
		}
	}
	if k, cmd := a["signing_key"], a["signing_command"]; r.SigningKey != "" && r.SigningCommand != "" {
		ld.errorf(cmd.NameRange.Ptr(), "Conflicting signing methods",
			"signing_key (at %s) and signing_command sign the same catalog: give one of them.", k.NameRange)
	}
	return r
}

func (ld *loader) decodeEnvironment(b *hcl.Block, e *Environment) {
	c, diags := b.Body.Content(environmentSchema)
	ld.diags = append(ld.diags, diags...)
	a := c.Attributes
	ld.enumAttr(a["isolation"], &e.Isolation, Isolations, "isolation")
	ld.enumAttr(a["network"], &e.Network, Networks, "network mode")
	ld.mapAttr(a["env"], e.Env)
	seen := map[string]*hcl.Block{}
	for _, blk := range c.Blocks {
		rng := blk.LabelRanges[0].Ptr()
		target, r := mountTargetRule(blk.Labels[0])
		if ld.broke(rng, r) {
			continue
		}
		if prev := seen[target]; prev != nil {
			ld.errorf(rng, "Duplicate mount block", "%q is already mounted at %s.", target, prev.DefRange)
			continue
		}
		seen[target] = blk
		m := Mount{Target: target, Source: target, ReadOnly: true}
		mc, diags := blk.Body.Content(mountSchema)
		ld.diags = append(ld.diags, diags...)
		ld.pathAttr(mc.Attributes["source"], &m.Source)
		if v, ok := ld.boolAttr(mc.Attributes["readonly"]); ok {
			m.ReadOnly = v
		}
		e.Mounts = append(e.Mounts, m)
	}
	sort.Slice(e.Mounts, func(i, j int) bool { return e.Mounts[i].Target < e.Mounts[j].Target })
}

func reservedMount(target string) string {
	if target == "/" {
		return `A mount cannot replace the slot's root "/".`
	}
	for _, r := range SlotMounts {
		if target == r || strings.HasPrefix(target, r+"/") {
			return fmt.Sprintf("%q is the slot's own mount point %s (reserved: %s).", target, r, strings.Join(SlotMounts, " "))
		}
	}
	return ""
}

// --- typed attribute helpers. Each returns ok=false when the attribute is
// absent, null or invalid (then diagnosed).

func (ld *loader) typed(attr *hcl.Attribute, ty cty.Type, what string) (cty.Value, bool) {
	if attr == nil {
		return cty.NilVal, false
	}
	v, ok := ld.eval(attr.Expr)
	if !ok || v.IsNull() {
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		ld.errorf(attr.Expr.Range().Ptr(), "Incorrect attribute value type",
			"Inappropriate value for attribute %q: %s required, got %s.", attr.Name, what, v.Type().FriendlyName())
		return cty.NilVal, false
	}
	if !cv.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return cv, true
}

func (ld *loader) stringAttr(attr *hcl.Attribute) (string, bool) {
	v, ok := ld.typed(attr, cty.String, "string")
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

func (ld *loader) boolAttr(attr *hcl.Attribute) (bool, bool) {
	v, ok := ld.typed(attr, cty.Bool, "bool")
	if !ok {
		return false, false
	}
	return v.True(), true
}

func (ld *loader) pathAttr(attr *hcl.Attribute, dst *string) {
	s, ok := ld.stringAttr(attr)
	if !ok {
		return
	}
	rng := attr.Expr.Range().Ptr()
	if ld.broke(rng, emptyPathRule(attr.Name, s)) {
		return
	}
	resolved := ld.path(s)
	if ld.broke(rng, rootPathRule(attr.Name, resolved)) {
		return
	}
	*dst = resolved
}

func (ld *loader) enumAttr(attr *hcl.Attribute, dst *string, allowed []string, what string) {
	s, ok := ld.stringAttr(attr)
	if !ok {
		return
	}
	if !ld.broke(attr.Expr.Range().Ptr(), enumRule(attr.Name, s, allowed, what)) {
		*dst = s
	}
}

func (ld *loader) mapAttr(attr *hcl.Attribute, dst map[string]string) {
	v, ok := ld.typed(attr, cty.Map(cty.String), "map of strings")
	if !ok {
		return
	}
	for k, e := range v.AsValueMap() {
		if e.IsNull() {
			ld.errorf(attr.Expr.Range().Ptr(), "Incorrect attribute value type", "%s[%q] is null.", attr.Name, k)
			continue
		}
		// Every such map becomes make or environment variables.
		if ld.broke(attr.Expr.Range().Ptr(), varRule(attr.Name, k, e.AsString())) {
			continue
		}
		dst[k] = e.AsString()
	}
}

// varName is what make_conf, make_env and environment.env keys must be.
var varName = regexp.MustCompile(`^[A-Za-z_.][A-Za-z0-9_.-]*$`)

func (ld *loader) intAttr(attr *hcl.Attribute, lo, hi int) (int, bool) {
	if attr == nil {
		return 0, false
	}
	v, ok := ld.eval(attr.Expr)
	if !ok || v.IsNull() {
		return 0, false
	}
	return ld.intValue(attr, v, lo, hi, "number")
}

func (ld *loader) intValue(attr *hcl.Attribute, v cty.Value, lo, hi int, what string) (int, bool) {
	rng := attr.Expr.Range().Ptr()
	n, err := convert.Convert(v, cty.Number)
	if err != nil {
		ld.errorf(rng, "Incorrect attribute value type",
			"Inappropriate value for attribute %q: %s required, got %s.", attr.Name, what, v.Type().FriendlyName())
		return 0, false
	}
	bf := n.AsBigFloat()
	if !bf.IsInt() {
		ld.errorf(rng, "Invalid number", "%s must be a whole number, got %s.", attr.Name, bf.Text('g', -1))
		return 0, false
	}
	i, acc := bf.Int64()
	if acc != big.Exact {
		i = math.MaxInt64 // beyond every range (the message shows the value as written)
		if bf.Sign() < 0 {
			i = math.MinInt64
		}
	}
	if ld.broke(rng, rangeRule(attr.Name, i, int64(lo), int64(hi), bf.Text('f', 0))) {
		return 0, false
	}
	return int(i), true
}

// sizeAttr accepts a size string ("8g") or a number of bytes.
func (ld *loader) sizeAttr(attr *hcl.Attribute, dst *int64) {
	s, ok := ld.stringAttr(attr)
	if !ok {
		return
	}
	n, err := ParseSize(s)
	if err != nil {
		ld.errorf(attr.Expr.Range().Ptr(), "Invalid size", "%s: %v.", attr.Name, err)
		return
	}
	*dst = n
}

func (ld *loader) durationAttr(attr *hcl.Attribute, dst *time.Duration) {
	s, ok := ld.stringAttr(attr)
	if !ok {
		return
	}
	d, err := ParseDuration(s)
	if err != nil {
		ld.errorf(attr.Expr.Range().Ptr(), "Invalid duration", "%s: %v.", attr.Name, err)
		return
	}
	*dst = d
}

// stringList evaluates a list of strings and returns each element with
// its own source range when the expression is a literal list.
func (ld *loader) stringList(attr *hcl.Attribute) ([]string, []hcl.Range) {
	if attr == nil {
		return nil, nil
	}
	var elems []hcl.Expression
	if tup, ok := attr.Expr.(*hclsyntax.TupleConsExpr); ok {
		for _, e := range tup.Exprs {
			elems = append(elems, e)
		}
	}
	v, ok := ld.typed(attr, cty.List(cty.String), "list of strings")
	if !ok {
		return nil, nil
	}
	var out []string
	var ranges []hcl.Range
	for i, e := range v.AsValueSlice() {
		rng := attr.Expr.Range()
		if len(elems) == v.LengthInt() {
			rng = elems[i].Range()
		}
		if e.IsNull() {
			ld.errorf(rng.Ptr(), "Incorrect attribute value type", "%s holds a null element.", attr.Name)
			continue
		}
		out = append(out, e.AsString())
		ranges = append(ranges, rng)
	}
	return out, ranges
}

func (ld *loader) originList(attr *hcl.Attribute) []string {
	vals, ranges := ld.stringList(attr)
	var out []string
	for i, o := range vals {
		if o == AllPorts {
			out = append(out, o)
			continue
		}
		if err := CheckOrigin(o); err != nil {
			ld.errorf(ranges[i].Ptr(), "Invalid origin", "%v (or \"all\" for the whole tree).", err)
			continue
		}
		out = append(out, o)
	}
	return out
}
