#!/usr/bin/env bash
# The demo: validate the example profile, plan and apply the example ports
# tree (examples/ports) with real isolation, then apply again to show that
# everything is up to date. Run as root via `make demo`; run it twice and
# the second time everything is up to date from the start.
set -euo pipefail
DSYNTH=${1:-bin/dsynth}
cd "$(dirname "$0")/.."
"$DSYNTH" validate examples/demo.hcl
if [ "$(id -u)" != 0 ]; then
	echo "demo: plan and apply need root (namespaces, mounts, chroot): run 'make demo' as root" >&2
	exit 1
fi
BASE=/var/tmp/dsynth-demo
mkdir -p "$BASE"
echo
echo "== dsynth plan -out $BASE/demo.plan examples/demo.hcl"
"$DSYNTH" plan -out "$BASE/demo.plan" examples/demo.hcl
echo
echo "== dsynth apply $BASE/demo.plan"
rc=0
"$DSYNTH" apply "$BASE/demo.plan" || rc=$?
if [ "$rc" != 0 ]; then
	echo "demo: apply exited $rc" >&2
	exit "$rc"
fi
echo
echo "== dsynth apply -auto-approve examples/demo.hcl (again: nothing to do)"
"$DSYNTH" apply -auto-approve examples/demo.hcl
echo
echo "== dsynth show last"
DSYNTH_RECORDS="$BASE/records.db" "$DSYNTH" show last
echo
echo "Packages in $BASE/packages/All:"
ls -l "$BASE/packages/All"
