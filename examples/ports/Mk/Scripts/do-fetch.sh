#!/bin/sh
# do-fetch.sh SRCDIR DISTDIR FILE... -- "fetch" distfiles without network:
# each FILE missing from DISTDIR is copied from SRCDIR (the port's dist/
# directory) through a temporary name and an atomic rename, so concurrent
# workers sharing DISTDIR never see a partial file.
src=$1
dst=$2
shift 2
for f in "$@"; do
	[ -f "$dst/$f" ] && continue
	if [ ! -f "$src/$f" ]; then
		echo "===>  ${PKGNAME}: cannot fetch $f: not in DISTDIR ($dst) nor in $src" >&2
		exit 1
	fi
	echo "===>  Fetching $f"
	mkdir -p "$(dirname "$dst/$f")" || exit 1
	tmp="$dst/$f.fetch.$$"
	cp "$src/$f" "$tmp" && mv -f "$tmp" "$dst/$f" || { rm -f "$tmp"; exit 1; }
done
