// Package testport is `dsynth test`, poudriere's testport: one port of a
// plan built in a slot, whatever its up-to-date state, with extra checks,
// each reported pass or fail with the offending files:
//
//   - build: the phases check-sanity .. stage (as Apply runs them);
//   - test: the port's test target (its TEST_DEPENDS are installed: the
//     plan is made with tests enabled);
//   - check-plist: the framework's check-plist target, the packing list
//     against the staged files in both directions ("Orphaned:" staged
//     but not listed, "Missing:" listed but not staged);
//   - stage-qa: the framework's stage-qa target (files outside PREFIX,
//     absolute symlinks into the stage or out of PREFIX, #! interpreters
//     that exist nowhere);
//   - package: the package phase;
//   - leftovers: the package added into the slot's LOCALBASE with
//     pkg-static add and deleted again with pkg-static delete leaves
//     nothing (a listing of LOCALBASE before the add and after the
//     delete).
//
// The checks that look at files are shell, in the framework (Mk/Scripts
// check-plist.sh and stage-qa.sh of the trees' bsd.port.mk; FreeBSD's
// framework has targets of the same names): a check fails when its
// target fails, and its problems are the target's "Error: " lines, as
// FreeBSD's scripts print them. This package only runs targets in a slot
// (execute.PortSlot: the same preparation and dependency install as
// Apply's builder), collects, and reports.
//
// The dependencies are built before, by a normal Apply (recorded and
// reused); the tested port's own build is not recorded and its package
// is not kept: a test does not publish anything.
//
// With Options.Shell set, a failed test keeps the slot and runs an
// interactive /bin/sh in it (the build environment, the port's WRKDIR as
// working directory) before tearing it down, as poudriere testport -i.
package testport
