#!/bin/sh
# check-plist.sh PLIST [KEY=VALUE...] -- [PLIST_FILES...] -- compare the
# packing list (pkg-plist with %%KEY%% substitutions, plus PLIST_FILES) with
# the files staged under ${STAGEDIR}. Lines starting with @ are keywords
# (@comment ... is dropped, @dir, @sample etc. are ignored); relative entries
# are relative to ${PREFIX}.
plist=$1
shift
sed_args=
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	k=${1%%=*}
	v=${1#*=}
	v=$(printf '%s' "$v" | sed 's/[|&\\]/\\&/g')
	sed_args="$sed_args -e 's|%%$k%%|$v|g'"
	shift
done
[ "$1" = -- ] && shift
tmp=${TMPDIR:-/tmp}/check-plist.$$
trap 'rm -f "$tmp".*' EXIT
{
	if [ -f "$plist" ]; then
		eval sed $sed_args '"$plist"'
	fi
	for f in "$@"; do echo "$f"; done
} | while IFS= read -r line; do
	case $line in
	''|@*) continue ;;
	/*) echo "$line" ;;
	*) echo "$PREFIX/$line" ;;
	esac
done | LC_ALL=C sort -u > "$tmp.want"
(cd "$STAGEDIR" && find . \( -type f -o -type l \) | sed 's|^\.||') |
	LC_ALL=C sort > "$tmp.have"
missing=$(LC_ALL=C comm -23 "$tmp.want" "$tmp.have")
orphans=$(LC_ALL=C comm -13 "$tmp.want" "$tmp.have")
rc=0
if [ -n "$missing" ]; then
	echo "===>  ${PKGNAME}: in the packing list but not staged:" >&2
	echo "$missing" | sed 's/^/Error: Missing: /' >&2
	rc=1
fi
if [ -n "$orphans" ]; then
	echo "===>  ${PKGNAME}: staged but not in the packing list:" >&2
	echo "$orphans" | sed 's/^/Error: Orphaned: /' >&2
	rc=1
fi
[ $rc = 0 ] && echo "===>  ${PKGNAME}: packing list OK"
exit $rc
