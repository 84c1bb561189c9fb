// Package distfiles fetches and purges the distfiles of a profile.
//
// Fetch downloads what a plan's ports need before a build, so that apply
// can run with network = "none": each port with distfiles runs its own
// `fetch` and `checksum` make targets (the tree's framework decides how to
// download and judges the result with distinfo) in a fresh slot with the
// host network, several ports at once, with the environment the build
// phases get (execute.Ports). A port whose files are all in distfiles_dir
// already runs `checksum` alone. The FETCH_DEPENDS of a port are installed
// in its slot from packages_dir first, as a build does.
//
// Purge lists the files of distfiles_dir that no port of the tree
// references (as DIST_SUBDIR/FILE, or FILE without DIST_SUBDIR) and
// removes them on request, never anything outside distfiles_dir.
//
// Both are recorded as record.Operation (OpFetch, OpPurgeDistfiles) by
// Record. Fronts (the CLI) parse input, take the build-base lock and render
// the results.
package distfiles
