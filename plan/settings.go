package plan

import (
	"maps"
	"slices"
	"time"

	"github.com/go-dsynth/dsynth/spec"
)

// Settings are the profile's settings a plan carries: what apply, replay,
// a build host and the records need of the profile, resolved (every path
// absolute, every default filled in). They are the plan's own type, so
// that execute never sees spec; SettingsOf makes them from a resolved
// spec.Profile. The nested types have the fields of spec's, in the same
// order, so that the conversions below fail to compile when the two
// drift apart. The plan file's encoding of them is plan/planfile's.
type Settings struct {
	// Name is the profile's label; File the profile file's absolute path.
	Name string
	File string

	PortsDir      string
	BuildBase     string
	PackagesDir   string
	DistfilesDir  string
	OptionsDir    string
	LogsDir       string
	Records       string
	SystemDir     string
	PackageSuffix string
	MakeCommand   string

	// MakeConf holds make.conf variables given to every make invocation.
	MakeConf map[string]string
	// Targets are the origins to build, sorted; the single value AllPorts
	// means the whole tree. PortsFile is the absolute path of ports_file.
	Targets   []string
	PortsFile string
	// Exclude lists ports never built (origin, origin@flavor, category/*).
	Exclude []string
	// AllFlavors: the target AllPorts means every flavor of every port.
	AllFlavors bool
	// Tests includes TEST_DEPENDS and runs the test phase.
	Tests bool
	// Rebuild is the rebuild policy: "" or RebuildRecipe, or
	// RebuildMakefiles.
	Rebuild string

	// Ports holds per-port settings keyed by origin or origin@flavor.
	Ports map[string]PortSettings

	Workers     Workers
	Environment SlotEnvironment
	// Hooks, Repository and Executor are nil when the profile has no
	// such block.
	Hooks      *Hooks
	Repository *Repository
	Executor   *Executor

	// EnvRead lists the host environment variables the profile read
	// through env("NAME"), with the values seen.
	EnvRead map[string]string
}

// AllPorts is the target meaning the whole tree.
const AllPorts = spec.AllPorts

// Rebuild policies (Settings.Rebuild).
const (
	RebuildRecipe    = spec.RebuildRecipe
	RebuildMakefiles = spec.RebuildMakefiles
)

// Network modes (SlotEnvironment.Network).
const (
	NetworkNone  = spec.NetworkNone
	NetworkFetch = spec.NetworkFetch
	NetworkAll   = spec.NetworkAll
)

// PortSettings are the per-port overrides of a port block.
type PortSettings struct {
	OptionsSet   []string
	OptionsUnset []string
	MakeEnv      map[string]string
}

// Workers configures the builder pool (see spec.Workers).
type Workers struct {
	Count          int
	MaxJobs        int
	TmpfsWork      int64
	TmpfsLocalbase int64
	PhaseTimeout   time.Duration
	IdleTimeout    time.Duration
	Nice           int
	NoThrottle     bool
	MaxLoad        float64
	MaxSwap        int
	MinFreeMemory  int64
	CCacheDir      string
	CCacheSize     int64
}

// SlotEnvironment describes what the workers see (see spec.Environment).
type SlotEnvironment struct {
	Isolation string
	Network   string
	Env       map[string]string
	Mounts    []Mount
}

// Mount is an extra mount into every slot.
type Mount struct {
	Target   string
	Source   string
	ReadOnly bool
}

// Hooks name the programs run at run and port events (see spec.Hooks).
type Hooks struct {
	RunStart   string
	RunEnd     string
	PkgSuccess string
	PkgFailure string
	PkgIgnored string
	PkgSkipped string
	Timeout    time.Duration
}

// Repository configures the package repository catalog (see
// spec.Repository).
type Repository struct {
	PublishAfterRun bool
	SigningKey      string
	SigningCommand  string
}

// Executor is a build farm (see spec.Executor).
type Executor struct {
	Kind             string
	Address          string
	Namespace        string
	Listen           string
	URL              string
	HeartbeatTimeout time.Duration
	TLS              *TLS
}

// TLS secures the farm (see spec.TLS).
type TLS struct {
	CAFile         string
	CertFile       string
	KeyFile        string
	ServerName     string
	ListenCertFile string
	ListenKeyFile  string
}

// RepositoryConfig is s's repository settings, spec's defaults when the
// profile has no repository block.
func (s *Settings) RepositoryConfig() Repository {
	if s.Repository == nil {
		return Repository(spec.DefaultRepository)
	}
	return *s.Repository
}

// SettingsOf returns the settings of a resolved profile. They share no
// slice or map with p.
func SettingsOf(p *spec.Profile) Settings {
	s := Settings{
		Name: p.Name, File: p.File,
		PortsDir: p.PortsDir, BuildBase: p.BuildBase, PackagesDir: p.PackagesDir, DistfilesDir: p.DistfilesDir,
		OptionsDir: p.OptionsDir, LogsDir: p.LogsDir, Records: p.Records, SystemDir: p.SystemDir,
		PackageSuffix: p.PackageSuffix, MakeCommand: p.MakeCommand,
		MakeConf: maps.Clone(p.MakeConf), Targets: slices.Clone(p.Targets), PortsFile: p.PortsFile,
		Exclude: slices.Clone(p.Exclude), AllFlavors: p.AllFlavors, Tests: p.Tests, Rebuild: p.Rebuild,
		Workers: Workers(p.Workers),
		Environment: SlotEnvironment{Isolation: p.Environment.Isolation, Network: p.Environment.Network,
			Env: maps.Clone(p.Environment.Env)},
		EnvRead: maps.Clone(p.EnvRead),
	}
	if p.Ports != nil {
		s.Ports = make(map[string]PortSettings, len(p.Ports))
		for k, v := range p.Ports {
			s.Ports[k] = PortSettings{OptionsSet: slices.Clone(v.OptionsSet), OptionsUnset: slices.Clone(v.OptionsUnset), MakeEnv: maps.Clone(v.MakeEnv)}
		}
	}
	if p.Environment.Mounts != nil {
		s.Environment.Mounts = make([]Mount, len(p.Environment.Mounts))
		for i, m := range p.Environment.Mounts {
			s.Environment.Mounts[i] = Mount(m)
		}
	}
	if p.Hooks != nil {
		h := Hooks(*p.Hooks)
		s.Hooks = &h
	}
	if p.Repository != nil {
		r := Repository(*p.Repository)
		s.Repository = &r
	}
	if p.Executor != nil {
		e := *p.Executor
		s.Executor = &Executor{Kind: e.Kind, Address: e.Address, Namespace: e.Namespace, Listen: e.Listen,
			URL: e.URL, HeartbeatTimeout: e.HeartbeatTimeout}
		if e.TLS != nil {
			t := TLS(*e.TLS)
			s.Executor.TLS = &t
		}
	}
	return s
}

// Profile returns s as a spec.Profile (the inverse of SettingsOf), for
// spec's checks of a decoded plan's settings. It shares no slice or map
// with s.
func (s *Settings) Profile() *spec.Profile {
	p := &spec.Profile{
		Name: s.Name, File: s.File,
		PortsDir: s.PortsDir, BuildBase: s.BuildBase, PackagesDir: s.PackagesDir, DistfilesDir: s.DistfilesDir,
		OptionsDir: s.OptionsDir, LogsDir: s.LogsDir, Records: s.Records, SystemDir: s.SystemDir,
		PackageSuffix: s.PackageSuffix, MakeCommand: s.MakeCommand,
		MakeConf: maps.Clone(s.MakeConf), Targets: slices.Clone(s.Targets), PortsFile: s.PortsFile,
		Exclude: slices.Clone(s.Exclude), AllFlavors: s.AllFlavors, Tests: s.Tests, Rebuild: s.Rebuild,
		Workers: spec.Workers(s.Workers),
		Environment: spec.Environment{Isolation: s.Environment.Isolation, Network: s.Environment.Network,
			Env: maps.Clone(s.Environment.Env)},
		EnvRead: maps.Clone(s.EnvRead),
	}
	if s.Ports != nil {
		p.Ports = make(map[string]spec.PortSettings, len(s.Ports))
		for k, v := range s.Ports {
			p.Ports[k] = spec.PortSettings{OptionsSet: slices.Clone(v.OptionsSet), OptionsUnset: slices.Clone(v.OptionsUnset), MakeEnv: maps.Clone(v.MakeEnv)}
		}
	}
	if s.Environment.Mounts != nil {
		p.Environment.Mounts = make([]spec.Mount, len(s.Environment.Mounts))
		for i, m := range s.Environment.Mounts {
			p.Environment.Mounts[i] = spec.Mount(m)
		}
	}
	if s.Hooks != nil {
		h := spec.Hooks(*s.Hooks)
		p.Hooks = &h
	}
	if s.Repository != nil {
		r := spec.Repository(*s.Repository)
		p.Repository = &r
	}
	if s.Executor != nil {
		e := *s.Executor
		p.Executor = &spec.Executor{Kind: e.Kind, Address: e.Address, Namespace: e.Namespace, Listen: e.Listen,
			URL: e.URL, HeartbeatTimeout: e.HeartbeatTimeout}
		if e.TLS != nil {
			t := spec.TLS(*e.TLS)
			p.Executor.TLS = &t
		}
	}
	return p
}
