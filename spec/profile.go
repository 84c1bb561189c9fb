package spec

import "time"

// Profile is a fully resolved build profile. Every path is absolute and every
// default is filled in. It is JSON-encodable and is embedded in plan files.
type Profile struct {
	// Name is the label of the profile block.
	Name string `json:"name"`
	// File is the absolute path of the profile file it was read from.
	File string `json:"file"`

	PortsDir      string `json:"ports_dir"`
	BuildBase     string `json:"build_base"`
	PackagesDir   string `json:"packages_dir"`
	DistfilesDir  string `json:"distfiles_dir"`
	OptionsDir    string `json:"options_dir"`
	LogsDir       string `json:"logs_dir"`
	Records       string `json:"records"`
	SystemDir     string `json:"system_dir"`
	PackageSuffix string `json:"package_suffix"`
	MakeCommand   string `json:"make_command"`

	// MakeConf holds make.conf variables given to every make invocation.
	MakeConf map[string]string `json:"make_conf"`
	// Targets are the origins to build (category/port or category/port@flavor),
	// de-duplicated and sorted, gathered from ports, ports_file and port
	// blocks. The single value "all" means the whole tree.
	Targets []string `json:"targets"`
	// PortsFile is the absolute path of ports_file, or "".
	PortsFile string `json:"ports_file,omitempty"`
	// Exclude lists ports never built, sorted: category/port (every
	// flavor), category/port@flavor, or category/*. They are dropped from
	// every kind of target ("all", ports, ports_file, port blocks, @all),
	// and a port depending on one is skipped.
	Exclude []string `json:"exclude,omitempty"`
	// AllFlavors makes the target "all" mean every flavor of every port
	// (the default, as poudriere's bulk -a); false: default flavors only.
	// origin@all always means every flavor of one port.
	AllFlavors bool `json:"all_flavors,omitempty"`
	// Tests includes TEST_DEPENDS and runs the test phase.
	Tests bool `json:"tests"`
	// Rebuild is the rebuild policy: "" or RebuildRecipe (a port's input
	// key covers its evaluated recipe, dependencies cascade through run
	// and library dependencies) or RebuildMakefiles (the content of every
	// makefile its evaluation read, every dependency kind cascades).
	Rebuild string `json:"rebuild,omitempty"`

	// Ports holds per-port settings keyed by origin (as written in the
	// port block, category/port or category/port@flavor).
	Ports map[string]PortSettings `json:"ports"`

	Workers     Workers     `json:"workers"`
	Environment Environment `json:"environment"`
	// Hooks are programs run on the host at run and port events (nil:
	// no hooks block).
	Hooks *Hooks `json:"hooks,omitempty"`
	// Repository configures the package repository catalog (nil: no
	// repository block, the defaults of DefaultRepository).
	Repository *Repository `json:"repository,omitempty"`
	// Executor is the executor block: where `apply -executor temporal`
	// sends the builds (nil: none, builds run in this host's slots).
	Executor *Executor `json:"executor,omitempty"`

	// EnvRead lists the host environment variables the profile read through
	// env("NAME"), sorted, with the values seen. A plan pins them.
	EnvRead map[string]string `json:"env_read,omitempty"`
}

// Hooks name the programs run at run and port events, as C dsynth's
// hook_run_start ... hook_pkg_skipped: absolute paths ("" none), each run
// for at most Timeout.
type Hooks struct {
	RunStart   string        `json:"run_start,omitempty"`
	RunEnd     string        `json:"run_end,omitempty"`
	PkgSuccess string        `json:"pkg_success,omitempty"`
	PkgFailure string        `json:"pkg_failure,omitempty"`
	PkgIgnored string        `json:"pkg_ignored,omitempty"`
	PkgSkipped string        `json:"pkg_skipped,omitempty"`
	Timeout    time.Duration `json:"timeout"`
}

// Repository configures the package repository catalog that dsynth
// builds with the tree's own `pkg repo` and publishes atomically under
// packages_dir/.latest.
type Repository struct {
	// PublishAfterRun builds and publishes the repository after every run
	// that built a package (default true).
	PublishAfterRun bool `json:"publish_after_run"`
	// SigningKey is an RSA private key file (PEM), as `pkg repo ...
	// rsa:KEY`; SigningCommand is poudriere's signing_command: a command
	// (run with sh -c) that reads the catalog digest on stdin and answers
	// SIGNATURE, the signature, CERT, the public key, END. At most one.
	SigningKey     string `json:"signing_key,omitempty"`
	SigningCommand string `json:"signing_command,omitempty"`
}

// ExecutorTemporal is the executor of a build farm on Temporal.
const ExecutorTemporal = "temporal"

// Executor defaults.
const (
	DefaultTemporalAddress  = "127.0.0.1:7233"
	DefaultFarmListen       = "127.0.0.1:8765"
	DefaultHeartbeatTimeout = 30 * time.Second
)

// Executor is a build farm: the Temporal server, the namespace, and the
// controller's package server (Listen, the URL build hosts use).
type Executor struct {
	Kind             string        `json:"kind"`
	Address          string        `json:"address"`
	Namespace        string        `json:"namespace"`
	Listen           string        `json:"listen"`
	URL              string        `json:"url"`
	HeartbeatTimeout time.Duration `json:"heartbeat_timeout"`
	TLS              *TLS          `json:"tls,omitempty"`
}

// TLS secures the farm: the Temporal connection (CAFile to check the
// server, CertFile and KeyFile for a client certificate, ServerName) and
// the package server (ListenCertFile, ListenKeyFile).
type TLS struct {
	CAFile         string `json:"ca_file,omitempty"`
	CertFile       string `json:"cert_file,omitempty"`
	KeyFile        string `json:"key_file,omitempty"`
	ServerName     string `json:"server_name,omitempty"`
	ListenCertFile string `json:"listen_cert_file,omitempty"`
	ListenKeyFile  string `json:"listen_key_file,omitempty"`
}

// DefaultRepository is the repository of a profile with no repository
// block: published after every run that built something, unsigned.
var DefaultRepository = Repository{PublishAfterRun: true}

// RepositoryConfig is p's repository settings, the defaults when p has
// no repository block.
func (p *Profile) RepositoryConfig() Repository {
	if p.Repository == nil {
		return DefaultRepository
	}
	return *p.Repository
}

// Rebuild policies (Profile.Rebuild).
const (
	RebuildRecipe    = "recipe"
	RebuildMakefiles = "makefiles"
)

// RebuildPolicies are the values of the rebuild attribute.
var RebuildPolicies = []string{RebuildRecipe, RebuildMakefiles}

// DefaultHookTimeout bounds a hook when the block sets no timeout.
const DefaultHookTimeout = 60 * time.Second

// PortSettings are the per-port overrides of a port block.
type PortSettings struct {
	OptionsSet   []string          `json:"options_set"`
	OptionsUnset []string          `json:"options_unset"`
	MakeEnv      map[string]string `json:"make_env"`
}

// Workers configures the builder pool.
type Workers struct {
	// Count is the number of parallel builders ("auto" resolves to CPUs/2+1).
	Count int `json:"count"`
	// MaxJobs is MAKE_JOBS_NUMBER for each builder.
	MaxJobs int `json:"max_jobs"`
	// TmpfsWork and TmpfsLocalbase are sizes in bytes (0 = no limit).
	TmpfsWork      int64 `json:"tmpfs_work"`
	TmpfsLocalbase int64 `json:"tmpfs_localbase"`
	// PhaseTimeout bounds each build phase; IdleTimeout bounds the time
	// without output. 0 means no limit.
	PhaseTimeout time.Duration `json:"phase_timeout"`
	IdleTimeout  time.Duration `json:"idle_timeout"`
	// Nice is the scheduling niceness of build commands (0 = unchanged).
	Nice int `json:"nice"`
	// Dynamic throttling (C dsynth's rule): NoThrottle turns it off;
	// MaxLoad is the load average per CPU at which workers are cut to a
	// quarter (0: 5; the cut starts at 0.3 of it), MaxSwap the percentage
	// of swap in use that does the same (0: 40; from a quarter of it),
	// MinFreeMemory the available memory in bytes below which workers are
	// cut to a quarter (0: no memory rule).
	NoThrottle    bool    `json:"no_throttle,omitempty"`
	MaxLoad       float64 `json:"max_load,omitempty"`
	MaxSwap       int     `json:"max_swap,omitempty"`
	MinFreeMemory int64   `json:"min_free_memory,omitempty"`
	// CCacheDir, when set, is mounted into every slot at /ccache and used
	// by the framework's ccache wrappers (WITH_CCACHE_BUILD, CCACHE_DIR);
	// CCacheSize is its CCACHE_MAXSIZE in bytes (0: ccache's default).
	CCacheDir  string `json:"ccache_dir,omitempty"`
	CCacheSize int64  `json:"ccache_size,omitempty"`
}

// Network modes of Environment.Network.
const (
	NetworkNone  = "none"
	NetworkFetch = "fetch"
	NetworkAll   = "all"
)

// Environment describes what the workers see.
type Environment struct {
	// Isolation is the slot mechanism; "chroot" is the only value for now.
	Isolation string `json:"isolation"`
	// Network is one of NetworkNone, NetworkFetch, NetworkAll.
	Network string `json:"network"`
	// Env is added to every make invocation (scan and build). It may
	// override the uname/sysctl stand-ins (OPSYS, OSVERSION, UNAME_r, ...).
	Env map[string]string `json:"env"`
	// Mounts are extra mounts, sorted by Target.
	Mounts []Mount `json:"mounts"`
}

// Mount is an extra bind (Linux) or nullfs (BSD) mount into every slot.
type Mount struct {
	Target   string `json:"target"`
	Source   string `json:"source"`
	ReadOnly bool   `json:"readonly"`
}
