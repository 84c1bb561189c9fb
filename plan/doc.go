// Package plan turns a resolved profile and a ports tree into a Plan: it
// scans ports with `make -V`, resolves the dependency graph, computes each
// port's dsynth-compatible CRC32 and its input key, decides build or skip for
// every node. Plan is a domain type without encoding tags; its settings are
// the plan's own (Settings, made from a spec.Profile by SettingsOf), so
// execute never sees spec. The deterministic plan file is plan/planfile's
// (as Terraform's plans and plans/planfile): its versioned wire structs are
// the only code that knows the format. execute consumes a plan and never
// re-reads the profile or re-scans the tree.
//
// # Pipeline (Create)
//
//  1. ResolveEnvironment: the variables every make gets (BATCH=yes, the
//     uname/sysctl stand-ins, PKG_SUFX, make.conf, environment.env) and the
//     system_dir identity. TreeIdentity: Mk hash, git commit and dirty flag
//     when ports_dir is the top of a git checkout.
//  2. portscan.Walk scans the closure of the targets ("all" = ListPorts)
//     plus ports-mgmt/pkg, with Jobs concurrent loads. Each load hashes the
//     port directory (HashPortDir: SHA-256 and CRC32) and the options file,
//     then takes the make -V values from the records' metadata cache
//     (Store.Scan; encoded as scancache.go says) under a key hashing
//     everything that can change them: port directory content, Mk hash,
//     flavor, the complete make environment (stand-ins, make.conf, option
//     variables, make_env, paths), options file, system identity, make
//     command. Misses run make and are written back whenever 4 MB of new
//     entries are pending, and at the end. An unchanged tree runs no make.
//     A loaded port keeps its node (newNode), not its make variables.
//  3. Problems (missing ports with who needs them, make failures, unknown
//     flavors, malformed *_DEPENDS entries, unsafe package names, cycles
//     with their full path) make ActionFailed nodes with their reason and
//     cut edges; excluded ports (profile exclude) become ignored nodes with
//     cut edges, and what only they needed is pruned. Failures behind an
//     explicit target are also returned, beside the plan, in an *ErrorList
//     unless Options.KeepGoing.
//  4. Order: a deterministic topological order. Input keys are computed in
//     that order: SHA-256 over Inputs (port hash, flavor, options, make.conf
//     and make_env, Mk hash, environment identity, and every dependency's
//     input key). The components are stored by key (bucket inputs) so a
//     later plan can name what changed since the last build.
//  5. Decisions, in build order: failed, ignored (IGNORE/BROKEN or
//     excluded), skipped (a dependency is failed or ignored; the reason
//     names it and the chain), forced, skip when the
//     latest record.Package has the same input key and its file under
//     packages_dir/All has the recorded SHA-256 (meta ports: the record
//     alone), otherwise build with the reason: new, package missing,
//     package differs, or the changed components (port changed naming
//     the files, options changed naming the options, make.conf changed
//     and environment changed naming the variables, framework changed
//     naming the recipe variables or Mk files, dependency changed naming
//     each dependency and how it changed), the names coming from the
//     previous build's components in the records (Inputs.Files,
//     Inputs.Recipe, Inputs.OptionNames, ...).
//
// The only records database writes are caches (portcache, inputs, and
// package SHA-256 by path, size and mtime).
//
// # CRC32
//
// dsynth's crcDirTree XORs, over every file of the port directory, a
// CRC-32C (iSCSI) of the file's mtime, size and path. dsynth here folds the
// content instead of the mtime (checkouts touch mtimes), the size and the
// path relative to the ports tree, skipping dotfiles, *.core and work
// directories. Node.CRC32 is that value; PortHash is the strong hash used
// in keys and by Verify.
//
// # Inputs outside the port directory
//
// The scan also asks make for MASTERDIR and .MAKE.MAKEFILES. A slave
// port's master directory and the makefiles a port includes from elsewhere
// in the tree (Makefile.common files) are hashed into Node.External, are
// part of the input key and are checked by Verify; makefiles outside the
// tree (the host's sys.mk, make.conf) only guard the metadata cache. So
// editing a master port rescans and rebuilds its slaves too, which dsynth's
// CRC alone does not notice.
package plan
