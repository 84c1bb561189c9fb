#!/bin/sh
# do-checksum.sh DISTINFO DISTDIR DIST_SUBDIR FILE... -- verify the
# SHA256 lines of a distinfo file ("SHA256 (subdir/file) = hex").
# As in the real framework, a file that does not match is removed and
# fetched again (FETCH_REGET times, default 1; with do-fetch.sh, from
# DISTFILES_SRC or MASTER_SITES in the environment); one that still does
# not match is removed too and the target fails: a bad file never stays
# in DISTDIR as if it were good.
distinfo=$1
dir=$2
sub=$3
shift 3
reget=${FETCH_REGET:-1}
rc=0

# sum FILE: its SHA256 in hex, "" when it cannot be read.
sum() {
	[ -f "$1" ] || return
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	else
		sha256 -q "$1"
	fi
}

for f in "$@"; do
	key=$f
	[ -n "$sub" ] && key="$sub/$f"
	want=$(sed -n "s|^SHA256 ($key) = ||p" "$distinfo")
	if [ -z "$want" ]; then
		echo "===>  ${PKGNAME}: no SHA256 for $key in $distinfo" >&2
		rc=1
		continue
	fi
	n=0
	while :; do
		got=$(sum "$dir/$f")
		if [ "$got" = "$want" ]; then
			echo "=> SHA256 Checksum OK for $key."
			break
		fi
		if [ -z "$got" ]; then
			echo "=> $key is missing from $dir." >&2
		else
			echo "=> SHA256 Checksum mismatch for $key (want $want, got $got): removing $dir/$f." >&2
			rm -f "$dir/$f"
		fi
		if [ "$n" -ge "$reget" ]; then
			echo "===>  ${PKGNAME}: giving up on $key: SHA256 checksum mismatch or missing after $n refetch(es); make sure the Makefile and distinfo ($distinfo) are up to date" >&2
			rc=1
			break
		fi
		n=$((n + 1))
		echo "=> Refetching $key"
		sh "${SCRIPTSDIR}/do-fetch.sh" "${DISTFILES_SRC}" "$dir" "$f" || {
			echo "===>  ${PKGNAME}: giving up on $key: refetch failed" >&2
			rc=1
			break
		}
	done
done
exit $rc
