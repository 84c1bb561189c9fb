// Package replay rebuilds what an old plan described and proves, package by
// package, whether the result is bit-for-bit identical to what was built
// then.
//
// The model:
//
//	Source ── a plan file, or a past run's stored plan, plus the SHA-256
//	   │      of every package originally built with the plan's input keys
//	   ▼      (Originals, from the records database)
//	Prepare ─ the ports tree: the current one when it still matches every
//	   │      pinned hash, else the pinned git commit checked out in a
//	   │      temporary `git worktree`; every pinned CRC, port hash,
//	   │      options file, framework, environment and input key is
//	   │      verified there, and any mismatch refuses the replay
//	   ▼      (*MismatchError naming the differing ports)
//	Run ───── execute.Apply of a copy of the plan in which every port is
//	   │      built (nothing is "up to date"), into a separate packages
//	   │      directory (default <build_base>/replay/<key>/packages) with its
//	   │      own logs, recorded as a run whose ReplayOf names the original;
//	   │      a replay never writes packages_dir nor the latest-package
//	   ▼      records, so plan and apply are unaffected by it
//	Report ── per port reproduced / differs (both hashes and the first
//	          differing archive members with their offsets) / failed /
//	          skipped / not built originally, a summary line, and exit
//	          code bits (ExitDiffers, ExitFailed, ExitUncompared).
//
// Reproducibility itself comes from the fixed build environment every
// build gets (SOURCE_DATE_EPOCH from the pinned commit, or for each port
// the one its original package was built with: a port up to date in the
// replayed run was built from an older commit; TZ=UTC, LC_ALL=C,
// umask 022, host name execute.BuildHostname) and from the ports
// framework's deterministic packaging (see docs/replay.md).
package replay
