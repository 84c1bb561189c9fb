#!/usr/bin/env bash
# The demo: validate the example profile, plan and apply the example ports
# tree (examples/ports) with real isolation, then apply again to show that
# everything is up to date. Run as root via `make demo`; run it twice and
# the second time everything is up to date from the start. DEMO_BASE
# chooses the build base (default /var/tmp/dsynth-demo): a new one builds
# everything again.
set -euo pipefail
DSYNTH=${1:-bin/dsynth}
cd "$(dirname "$0")/.."
BASE=${DEMO_BASE:-/var/tmp/dsynth-demo}
VAR=(-var "build_base=$BASE")
echo "== dsynth validate ${VAR[*]} examples/demo.hcl"
"$DSYNTH" validate "${VAR[@]}" examples/demo.hcl
if [ "$(id -u)" != 0 ]; then
	echo "demo: plan and apply need root (namespaces, mounts, chroot): run 'make demo' as root" >&2
	exit 1
fi
mkdir -p "$BASE"
echo
echo "== dsynth plan ${VAR[*]} -out $BASE/demo.plan examples/demo.hcl"
"$DSYNTH" plan "${VAR[@]}" -out "$BASE/demo.plan" examples/demo.hcl
echo
echo "== dsynth apply $BASE/demo.plan"
rc=0
"$DSYNTH" apply "$BASE/demo.plan" || rc=$?
if [ "$rc" != 0 ]; then
	echo "demo: apply exited $rc" >&2
	exit "$rc"
fi
echo
echo "== dsynth apply -auto-approve ${VAR[*]} examples/demo.hcl (again: nothing to do)"
"$DSYNTH" apply -auto-approve "${VAR[@]}" examples/demo.hcl
echo
echo "== dsynth show -records $BASE/records.db last"
"$DSYNTH" show -records "$BASE/records.db" last
echo
echo "Packages in $BASE/packages/All:"
ls -l "$BASE/packages/All"
echo
echo "The published package repository ($BASE/packages/.latest -> $(readlink "$BASE/packages/.latest")):"
ls -l "$BASE/packages/.latest/"
echo
echo "== dsynth history -records $BASE/records.db repository"
"$DSYNTH" history -records "$BASE/records.db" repository
