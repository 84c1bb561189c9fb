package planfile

import (
	"time"

	"github.com/go-dsynth/dsynth/plan"
)

// The wire structs are the plan file's JSON, field for field in file
// order (encoding/json writes struct fields in declaration order and map
// keys sorted, so equal plans give equal bytes). Formats 1 to 4 share
// these structs: format 1 left an empty flavor out (see canonicalBody),
// format 3 added the action "failed", format 4 recipe_hash. A change to
// any tag, order or type here is a change of the format: bump
// FormatVersion and keep reading the old ones.

type filePlan struct {
	FormatVersion int         `json:"format_version"`
	DsynthVersion string      `json:"dsynth_version"`
	Digest        string      `json:"digest"`
	Profile       fileProfile `json:"profile"`
	ProfileSource string      `json:"profile_source"`
	Tree          fileTree    `json:"tree"`
	Environment   fileEnv     `json:"environment"`
	Ports         []fileNode  `json:"ports"`
	PkgNode       string      `json:"pkg_node,omitempty"`
	Order         []string    `json:"order"`
}

type fileProfile struct {
	Name          string                      `json:"name"`
	File          string                      `json:"file"`
	PortsDir      string                      `json:"ports_dir"`
	BuildBase     string                      `json:"build_base"`
	PackagesDir   string                      `json:"packages_dir"`
	DistfilesDir  string                      `json:"distfiles_dir"`
	OptionsDir    string                      `json:"options_dir"`
	LogsDir       string                      `json:"logs_dir"`
	Records       string                      `json:"records"`
	SystemDir     string                      `json:"system_dir"`
	PackageSuffix string                      `json:"package_suffix"`
	MakeCommand   string                      `json:"make_command"`
	MakeConf      map[string]string           `json:"make_conf"`
	Targets       []string                    `json:"targets"`
	PortsFile     string                      `json:"ports_file,omitempty"`
	Exclude       []string                    `json:"exclude,omitempty"`
	AllFlavors    bool                        `json:"all_flavors,omitempty"`
	Tests         bool                        `json:"tests"`
	Rebuild       string                      `json:"rebuild,omitempty"`
	Ports         map[string]filePortSettings `json:"ports"`
	Workers       fileWorkers                 `json:"workers"`
	Environment   fileSlotEnv                 `json:"environment"`
	Hooks         *fileHooks                  `json:"hooks,omitempty"`
	Repository    *fileRepository             `json:"repository,omitempty"`
	Executor      *fileExecutor               `json:"executor,omitempty"`
	EnvRead       map[string]string           `json:"env_read,omitempty"`
}

type filePortSettings struct {
	OptionsSet   []string          `json:"options_set"`
	OptionsUnset []string          `json:"options_unset"`
	MakeEnv      map[string]string `json:"make_env"`
}

type fileWorkers struct {
	Count          int           `json:"count"`
	MaxJobs        int           `json:"max_jobs"`
	TmpfsWork      int64         `json:"tmpfs_work"`
	TmpfsLocalbase int64         `json:"tmpfs_localbase"`
	PhaseTimeout   time.Duration `json:"phase_timeout"`
	IdleTimeout    time.Duration `json:"idle_timeout"`
	Nice           int           `json:"nice"`
	NoThrottle     bool          `json:"no_throttle,omitempty"`
	MaxLoad        float64       `json:"max_load,omitempty"`
	MaxSwap        int           `json:"max_swap,omitempty"`
	MinFreeMemory  int64         `json:"min_free_memory,omitempty"`
	CCacheDir      string        `json:"ccache_dir,omitempty"`
	CCacheSize     int64         `json:"ccache_size,omitempty"`
}

type fileSlotEnv struct {
	Isolation string            `json:"isolation"`
	Network   string            `json:"network"`
	Env       map[string]string `json:"env"`
	Mounts    []fileMount       `json:"mounts"`
}

type fileMount struct {
	Target   string `json:"target"`
	Source   string `json:"source"`
	ReadOnly bool   `json:"readonly"`
}

type fileHooks struct {
	RunStart   string        `json:"run_start,omitempty"`
	RunEnd     string        `json:"run_end,omitempty"`
	PkgSuccess string        `json:"pkg_success,omitempty"`
	PkgFailure string        `json:"pkg_failure,omitempty"`
	PkgIgnored string        `json:"pkg_ignored,omitempty"`
	PkgSkipped string        `json:"pkg_skipped,omitempty"`
	Timeout    time.Duration `json:"timeout"`
}

type fileRepository struct {
	PublishAfterRun bool   `json:"publish_after_run"`
	SigningKey      string `json:"signing_key,omitempty"`
	SigningCommand  string `json:"signing_command,omitempty"`
}

type fileExecutor struct {
	Kind             string        `json:"kind"`
	Address          string        `json:"address"`
	Namespace        string        `json:"namespace"`
	Listen           string        `json:"listen"`
	URL              string        `json:"url"`
	HeartbeatTimeout time.Duration `json:"heartbeat_timeout"`
	TLS              *fileTLS      `json:"tls,omitempty"`
}

type fileTLS struct {
	CAFile         string `json:"ca_file,omitempty"`
	CertFile       string `json:"cert_file,omitempty"`
	KeyFile        string `json:"key_file,omitempty"`
	ServerName     string `json:"server_name,omitempty"`
	ListenCertFile string `json:"listen_cert_file,omitempty"`
	ListenKeyFile  string `json:"listen_key_file,omitempty"`
}

type fileTree struct {
	Path            string `json:"path"`
	GitCommit       string `json:"git_commit,omitempty"`
	GitDirty        bool   `json:"git_dirty,omitempty"`
	SourceDateEpoch int64  `json:"source_date_epoch,omitempty"`
	MkHash          string `json:"mk_hash"`
}

type fileEnv struct {
	Vars     map[string]string `json:"vars"`
	SystemID string            `json:"system_id"`
	Key      string            `json:"key"`
}

type fileNode struct {
	ID                string                    `json:"id"`
	Origin            string                    `json:"origin"`
	Flavor            string                    `json:"flavor"`
	PkgName           string                    `json:"pkgname"`
	Version           string                    `json:"version"`
	PkgFile           string                    `json:"pkgfile,omitempty"`
	CRC32             string                    `json:"crc32"`
	PortHash          string                    `json:"port_hash"`
	External          map[string]string         `json:"external,omitempty"`
	RecipeHash        string                    `json:"recipe_hash,omitempty"`
	OptionsFileHash   string                    `json:"options_file_hash,omitempty"`
	InputKey          string                    `json:"input_key"`
	Deps              map[plan.DepKind][]string `json:"deps"`
	SelectedOptions   []string                  `json:"selected_options,omitempty"`
	DeselectedOptions []string                  `json:"deselected_options,omitempty"`
	OptionsEnv        map[string]string         `json:"options_env,omitempty"`
	MakeEnv           map[string]string         `json:"make_env,omitempty"`
	Distfiles         []string                  `json:"distfiles,omitempty"`
	DistSubdir        string                    `json:"dist_subdir,omitempty"`
	MakeJobs          int                       `json:"make_jobs,omitempty"`
	Meta              bool                      `json:"meta,omitempty"`
	Ignore            string                    `json:"ignore,omitempty"`
	Action            plan.Action               `json:"action"`
	Reason            string                    `json:"reason"`
	Priority          int                       `json:"priority"`
}

// toFile is p's wire form (sharing p's slices and maps: it is encoded
// at once, never modified).
func toFile(p *plan.Plan, version int) *filePlan {
	f := toFileHead(p, version)
	if p.Ports != nil {
		f.Ports = make([]fileNode, len(p.Ports))
		for i := range p.Ports {
			f.Ports[i] = fileNodeOf(&p.Ports[i])
		}
	}
	return f
}

// toFileHead is toFile without the nodes (see fileNodeOf).
func toFileHead(p *plan.Plan, version int) *filePlan {
	s := &p.Settings
	f := &filePlan{
		FormatVersion: version, DsynthVersion: p.DsynthVersion, Digest: p.Digest,
		ProfileSource: p.ProfileSource,
		Tree:          fileTree(p.Tree),
		Environment:   fileEnv(p.Environment),
		PkgNode:       p.PkgNode, Order: p.Order,
		Profile: fileProfile{
			Name: s.Name, File: s.File,
			PortsDir: s.PortsDir, BuildBase: s.BuildBase, PackagesDir: s.PackagesDir, DistfilesDir: s.DistfilesDir,
			OptionsDir: s.OptionsDir, LogsDir: s.LogsDir, Records: s.Records, SystemDir: s.SystemDir,
			PackageSuffix: s.PackageSuffix, MakeCommand: s.MakeCommand,
			MakeConf: s.MakeConf, Targets: s.Targets, PortsFile: s.PortsFile, Exclude: s.Exclude,
			AllFlavors: s.AllFlavors, Tests: s.Tests, Rebuild: s.Rebuild,
			Workers: fileWorkers(s.Workers),
			Environment: fileSlotEnv{Isolation: s.Environment.Isolation, Network: s.Environment.Network,
				Env: s.Environment.Env},
			EnvRead: s.EnvRead,
		},
	}
	if s.Ports != nil {
		f.Profile.Ports = make(map[string]filePortSettings, len(s.Ports))
		for k, v := range s.Ports {
			f.Profile.Ports[k] = filePortSettings(v)
		}
	}
	if s.Environment.Mounts != nil {
		f.Profile.Environment.Mounts = make([]fileMount, len(s.Environment.Mounts))
		for i, m := range s.Environment.Mounts {
			f.Profile.Environment.Mounts[i] = fileMount(m)
		}
	}
	if s.Hooks != nil {
		h := fileHooks(*s.Hooks)
		f.Profile.Hooks = &h
	}
	if s.Repository != nil {
		r := fileRepository(*s.Repository)
		f.Profile.Repository = &r
	}
	if e := s.Executor; e != nil {
		f.Profile.Executor = &fileExecutor{Kind: e.Kind, Address: e.Address, Namespace: e.Namespace,
			Listen: e.Listen, URL: e.URL, HeartbeatTimeout: e.HeartbeatTimeout}
		if e.TLS != nil {
			t := fileTLS(*e.TLS)
			f.Profile.Executor.TLS = &t
		}
	}
	return f
}

// fileNodeOf is node n's wire form (sharing its slices and maps).
func fileNodeOf(n *plan.Node) fileNode {
	return fileNode{
		ID: n.ID, Origin: n.Origin, Flavor: n.Flavor, PkgName: n.PkgName, Version: n.Version,
		PkgFile: n.PkgFile, CRC32: n.CRC32, PortHash: n.PortHash, External: n.External,
		RecipeHash: n.RecipeHash, OptionsFileHash: n.OptionsFileHash, InputKey: n.InputKey,
		Deps: n.Deps, SelectedOptions: n.SelectedOptions, DeselectedOptions: n.DeselectedOptions,
		OptionsEnv: n.OptionsEnv, MakeEnv: n.MakeEnv, Distfiles: n.Distfiles, DistSubdir: n.DistSubdir,
		MakeJobs: n.MakeJobs, Meta: n.Meta, Ignore: n.Ignore, Action: n.Action, Reason: n.Reason,
		Priority: n.Priority,
	}
}

// toPlan is the domain plan of a decoded file (taking over its slices
// and maps).
func (f *filePlan) toPlan() *plan.Plan {
	fp := &f.Profile
	p := &plan.Plan{
		DsynthVersion: f.DsynthVersion, Digest: f.Digest, ProfileSource: f.ProfileSource,
		Tree: plan.Tree(f.Tree), Environment: plan.Environment(f.Environment),
		PkgNode: f.PkgNode, Order: f.Order,
		Settings: plan.Settings{
			Name: fp.Name, File: fp.File,
			PortsDir: fp.PortsDir, BuildBase: fp.BuildBase, PackagesDir: fp.PackagesDir, DistfilesDir: fp.DistfilesDir,
			OptionsDir: fp.OptionsDir, LogsDir: fp.LogsDir, Records: fp.Records, SystemDir: fp.SystemDir,
			PackageSuffix: fp.PackageSuffix, MakeCommand: fp.MakeCommand,
			MakeConf: fp.MakeConf, Targets: fp.Targets, PortsFile: fp.PortsFile, Exclude: fp.Exclude,
			AllFlavors: fp.AllFlavors, Tests: fp.Tests, Rebuild: fp.Rebuild,
			Workers: plan.Workers(fp.Workers),
			Environment: plan.SlotEnvironment{Isolation: fp.Environment.Isolation, Network: fp.Environment.Network,
				Env: fp.Environment.Env},
			EnvRead: fp.EnvRead,
		},
	}
	s := &p.Settings
	if fp.Ports != nil {
		s.Ports = make(map[string]plan.PortSettings, len(fp.Ports))
		for k, v := range fp.Ports {
			s.Ports[k] = plan.PortSettings(v)
		}
	}
	if fp.Environment.Mounts != nil {
		s.Environment.Mounts = make([]plan.Mount, len(fp.Environment.Mounts))
		for i, m := range fp.Environment.Mounts {
			s.Environment.Mounts[i] = plan.Mount(m)
		}
	}
	if fp.Hooks != nil {
		h := plan.Hooks(*fp.Hooks)
		s.Hooks = &h
	}
	if fp.Repository != nil {
		r := plan.Repository(*fp.Repository)
		s.Repository = &r
	}
	if e := fp.Executor; e != nil {
		s.Executor = &plan.Executor{Kind: e.Kind, Address: e.Address, Namespace: e.Namespace,
			Listen: e.Listen, URL: e.URL, HeartbeatTimeout: e.HeartbeatTimeout}
		if e.TLS != nil {
			t := plan.TLS(*e.TLS)
			s.Executor.TLS = &t
		}
	}
	if f.Ports != nil {
		p.Ports = make([]plan.Node, len(f.Ports))
		for i := range f.Ports {
			n := &f.Ports[i]
			p.Ports[i] = plan.Node{
				ID: n.ID, Origin: n.Origin, Flavor: n.Flavor, PkgName: n.PkgName, Version: n.Version,
				PkgFile: n.PkgFile, CRC32: n.CRC32, PortHash: n.PortHash, External: n.External,
				RecipeHash: n.RecipeHash, OptionsFileHash: n.OptionsFileHash, InputKey: n.InputKey,
				Deps: n.Deps, SelectedOptions: n.SelectedOptions, DeselectedOptions: n.DeselectedOptions,
				OptionsEnv: n.OptionsEnv, MakeEnv: n.MakeEnv, Distfiles: n.Distfiles, DistSubdir: n.DistSubdir,
				MakeJobs: n.MakeJobs, Meta: n.Meta, Ignore: n.Ignore, Action: n.Action, Reason: n.Reason,
				Priority: n.Priority,
			}
		}
	}
	return p
}
