#!/bin/sh
# check-plist.sh PLIST [KEY=VALUE...] -- [PLIST_FILES...] -- compare the
# packing list (pkg-plist with %%KEY%% substitutions, plus PLIST_FILES) with
# what is staged under ${STAGEDIR}, in both directions:
#
#   Error: Orphaned: /usr/local/share/foo   staged, not in the packing list
#   Error: Missing: /usr/local/bin/foo      in the packing list, not staged
#
# (the lines FreeBSD's check-plist prints). Entries are files or symlinks,
# relative to ${PREFIX} unless absolute. Keywords, as pkg defines them:
#   @comment ...                    dropped (so is %%OPT%% = "@comment ")
#   @(owner,group,mode) FILE        FILE, with its attributes
#   @sample FILE [TARGET]           FILE (e.g. etc/foo.conf.sample) is staged
#   @shell FILE, @info FILE         FILE
#   @dir DIR (@dirrm, @dirrmtry)    the directory must be staged
#   @exec @unexec @preexec @postexec @preunexec @postunexec @owner @group
#   @mode @cwd @ldconfig @rmtry     no file: not compared
# Any other keyword is an error ("Error: Unknown keyword: ..."). The
# package itself holds every staged file (see do-package.sh); install
# actions come from pkg-install/pkg-deinstall.
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
abs() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PREFIX/$1" ;;
	esac
}
: > "$tmp.dirs"
: > "$tmp.bad"
{
	if [ -f "$plist" ]; then
		eval sed $sed_args '"$plist"'
	fi
	for f in "$@"; do echo "$f"; done
} | while IFS= read -r line; do
	case $line in
	'' | '@comment' | '@comment '*) ;;
	'@('*) abs "${line#*) }" ;;
	'@sample '* | '@shell '* | '@info '*)
		set -- ${line#* }
		abs "$1"
		;;
	'@dir '* | '@dirrm '* | '@dirrmtry '*) abs "${line#* }" >> "$tmp.dirs" ;;
	'@exec '* | '@unexec '* | '@preexec '* | '@postexec '* | '@preunexec '* | \
	'@postunexec '* | '@owner' | '@owner '* | '@group' | '@group '* | \
	'@mode' | '@mode '* | '@cwd' | '@cwd '* | '@ldconfig' | '@ldconfig '* | \
	'@rmtry '*) ;;
	@*) echo "Error: Unknown keyword: $line" >> "$tmp.bad" ;;
	*) abs "$line" ;;
	esac
done | LC_ALL=C sort -u > "$tmp.want"
(cd "$STAGEDIR" && find . \( -type f -o -type l \) | sed 's|^\.||') |
	LC_ALL=C sort > "$tmp.have"
missing=$(LC_ALL=C comm -23 "$tmp.want" "$tmp.have")
while IFS= read -r d; do
	[ -d "$STAGEDIR$d" ] || missing="$missing${missing:+
}@dir $d"
done < "$tmp.dirs"
orphans=$(LC_ALL=C comm -13 "$tmp.want" "$tmp.have")
rc=0
if [ -s "$tmp.bad" ]; then
	cat "$tmp.bad" >&2
	rc=1
fi
n_orph=0
n_miss=0
if [ -n "$orphans" ]; then
	n_orph=$(echo "$orphans" | wc -l | tr -d ' ')
	echo "===>  ${PKGNAME}: $n_orph file(s) staged but not in the packing list (orphans):" >&2
	echo "$orphans" | sed 's/^/Error: Orphaned: /' >&2
	rc=1
fi
if [ -n "$missing" ]; then
	n_miss=$(echo "$missing" | wc -l | tr -d ' ')
	echo "===>  ${PKGNAME}: $n_miss entr(ies) in the packing list but not staged (missing):" >&2
	echo "$missing" | sed 's/^/Error: Missing: /' >&2
	rc=1
fi
if [ $rc = 0 ]; then
	echo "===>  ${PKGNAME}: packing list OK ($(wc -l < "$tmp.want" | tr -d ' ') entries, no orphans, nothing missing)"
else
	echo "===>  ${PKGNAME}: check-plist failed: $n_orph orphan(s), $n_miss missing" >&2
fi
exit $rc
