package plan

// Action is what apply will do with a node.
type Action string

const (
	// ActionBuild: the port is built.
	ActionBuild Action = "build"
	// ActionSkip: up to date, nothing to do.
	ActionSkip Action = "skip"
	// ActionIgnored: the port is IGNOREd or BROKEN (Node.Ignore says why).
	ActionIgnored Action = "ignored"
	// ActionSkipped: a dependency is ignored or failed (Node.Reason names
	// it, and the chain to it).
	ActionSkipped Action = "skipped"
	// ActionFailed: the port could not be planned: it is missing, its
	// make -V failed, its flavor does not exist, a *_DEPENDS entry is
	// malformed, its package name is unsafe, or it is on a dependency
	// cycle. Node.Reason says why; its dependency edges are cut (Deps is
	// empty), and apply records it as failed without building it.
	ActionFailed Action = "failed"
)

// DepKind is a dependency variable, without the _DEPENDS suffix, lower case.
type DepKind string

const (
	DepFetch   DepKind = "fetch"
	DepExtract DepKind = "extract"
	DepPatch   DepKind = "patch"
	DepBuild   DepKind = "build"
	DepLib     DepKind = "lib"
	DepRun     DepKind = "run"
	DepTest    DepKind = "test"
)

// DepKinds lists every kind in dsynth's phase order.
var DepKinds = []DepKind{DepFetch, DepExtract, DepPatch, DepBuild, DepLib, DepRun, DepTest}

// Plan is a complete, self-contained build plan. Its file encoding is
// plan/planfile's alone.
type Plan struct {
	DsynthVersion string
	// Digest identifies the plan: the digest of its plan file, set by
	// plan/planfile when it encodes or decodes the plan ("" before).
	Digest string

	// Settings are the profile's resolved settings; ProfileSource is the
	// profile file's text as read.
	Settings      Settings
	ProfileSource string

	Tree        Tree
	Environment Environment

	// Ports are the nodes sorted by ID.
	Ports []Node

	// PkgNode is the ID of ports-mgmt/pkg when the tree has it: apply
	// builds (or reuses) it before anything else and bootstraps every slot
	// with its package. "" when the tree has no ports-mgmt/pkg.
	PkgNode string
	// Order is a topological order of Ports (every node after all of its
	// dependencies, ties broken by ID): the build order constraints in one
	// list. Node.Deps holds the edges themselves.
	Order []string
}

// Tree identifies the ports tree a plan was made from.
type Tree struct {
	Path string
	// GitCommit is the HEAD commit when Path is in a git checkout, else "".
	GitCommit string
	// GitDirty is true when the checkout had uncommitted changes.
	GitDirty bool
	// SourceDateEpoch is the SOURCE_DATE_EPOCH builds get (unless the
	// profile's environment sets one): the committer time of GitCommit,
	// else DefaultSourceDateEpoch. It is not part of any input key.
	SourceDateEpoch int64
	// MkHash is the hex SHA-256 of the Mk framework (PORTSDIR/Mk).
	MkHash string
}

// Environment identifies the build environment: the variables given to make
// (stand-ins, make.conf, environment.env) and the system the workers see.
type Environment struct {
	// Vars are the environment variables every make invocation gets,
	// including PORTSDIR and the uname/sysctl stand-ins.
	Vars map[string]string
	// SystemID is a hash identifying system_dir's content.
	SystemID string
	// Key is the hex SHA-256 over Vars and SystemID.
	Key string
}

// Node is one port (and flavor) of the plan.
type Node struct {
	// ID is the canonical node name: Origin, or Origin@Flavor for a
	// flavored port (always with its flavor, the default one included).
	ID      string
	Origin  string
	Flavor  string
	PkgName string
	Version string
	// PkgFile is the package file name (basename of PKGFILE), e.g.
	// foo-1.0.pkg. Empty for meta ports that produce no package.
	PkgFile string
	// CRC32 is the dsynth-compatible CRC of the port directory, 8 hex digits.
	CRC32 string
	// PortHash is the hex SHA-256 of the port directory's content (see
	// HashPortDir); Verify compares it with the tree.
	PortHash string
	// External maps inputs outside the port directory, relative to the
	// ports tree, to their hex SHA-256: makefiles the port includes from
	// elsewhere (e.g. ../../devel/foo/Makefile.common) and, ending in "/",
	// the MASTERDIR of a slave port. Part of the input key; Verify checks
	// them.
	External map[string]string
	// RecipeHash is the framework's part of the input key: the hash of
	// Recipe. Empty in plans of format 3 and older (their key covers the
	// whole Mk hash).
	RecipeHash string
	// Recipe is, while planning, what RecipeHash covers by name (see
	// creator.recipe): recipe variable -> hash of its value by default,
	// Mk file -> hash of its content with rebuild = "makefiles". Kept in
	// the records' input components (to name what changed), not in the
	// plan file.
	// It is packed ("NAME=hash\n", sorted) to keep a 30,000-port plan
	// small in memory.
	Recipe string
	// Files is, while planning, what the Port component of the input key
	// covers by name (not in the plan file): each file of the port
	// directory with its CRC-32C, and each external input under the
	// ports tree (its tree-relative path after a "/"), packed as
	// packNames does. Kept in the records' input components so that a
	// later plan can name the files that changed.
	Files string
	// OptionsFileHash is the hex SHA-256 of the port's options file under
	// options_dir (OPTIONS_NAME/options), "" when there is none.
	OptionsFileHash string
	// InputKey is the hex SHA-256 of every input of this port and its deps.
	InputKey string
	// Deps maps a dependency kind to the IDs of the nodes it needs, sorted.
	Deps map[DepKind][]string
	// Options
	SelectedOptions   []string
	DeselectedOptions []string
	// OptionsEnv are the per-port option variables given to make
	// (${OPTIONS_NAME}_SET / ${OPTIONS_NAME}_UNSET from the profile's
	// options_set / options_unset).
	OptionsEnv map[string]string
	// MakeEnv is the port's make_env from the profile.
	MakeEnv map[string]string
	// Distfiles is ALLFILES and DistSubdir is DIST_SUBDIR.
	Distfiles  []string
	DistSubdir string
	// MakeJobs is MAKE_JOBS_NUMBER as the port reported it.
	MakeJobs int
	// Meta is true for USES=metaport ports (no package is produced).
	Meta bool
	// Ignore is the IGNORE/BROKEN text, or "".
	Ignore string
	Action Action
	// Reason explains Action, e.g. "new", "port changed", "dependency
	// changed", "skipped: devel/b is ignored".
	Reason string
	// Priority orders ready ports: larger first (longest dependency chain
	// above this node).
	Priority int
}
