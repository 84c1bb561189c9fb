#!/bin/sh
# do-checksum.sh DISTINFO DISTDIR DIST_SUBDIR FILE... -- verify the
# SHA256 lines of a distinfo file ("SHA256 (subdir/file) = hex").
distinfo=$1
dir=$2
sub=$3
shift 3
rc=0
for f in "$@"; do
	key=$f
	[ -n "$sub" ] && key="$sub/$f"
	want=$(sed -n "s|^SHA256 ($key) = ||p" "$distinfo")
	if [ -z "$want" ]; then
		echo "===>  ${PKGNAME}: no SHA256 for $key in $distinfo" >&2
		rc=1
		continue
	fi
	got=$(sha256sum "$dir/$f" | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then
		echo "=> SHA256 Checksum OK for $key."
	else
		echo "=> SHA256 Checksum mismatch for $key (want $want, got $got)." >&2
		rc=1
	fi
done
exit $rc
