#!/bin/sh
# do-fetch.sh SRCDIR DISTDIR FILE... -- fetch each FILE missing from
# DISTDIR: copied from SRCDIR (the port's dist/ directory) when it is
# there, else downloaded from each site of ${MASTER_SITES} in turn (the
# site URL followed by the file name, as in the real framework; a ":group"
# suffix after the site's last "/" is dropped) with fetch(1) on BSD, curl
# or wget elsewhere. Either way through a temporary name and an atomic
# rename, so concurrent workers sharing DISTDIR never see a partial file.
# The checksum target (do-checksum.sh) judges what was fetched.
src=$1
dst=$2
shift 2

# download OUT URL: one attempt, its error message on stderr.
download() {
	if command -v fetch >/dev/null 2>&1; then
		fetch -q -o "$1" "$2"
	elif command -v curl >/dev/null 2>&1; then
		curl -fsS -L --connect-timeout 30 --retry 0 -o "$1" "$2"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -T 30 -t 1 -O "$1" "$2"
	else
		echo "no fetch, curl or wget in PATH ($PATH)"
		return 127
	fi
}

for f in "$@"; do
	[ -f "$dst/$f" ] && continue
	mkdir -p "$(dirname "$dst/$f")" || exit 1
	tmp="$dst/$f.fetch.$$"
	if [ -f "$src/$f" ]; then
		echo "===>  Fetching $f (from $src)"
		cp "$src/$f" "$tmp" && mv -f "$tmp" "$dst/$f" || { rm -f "$tmp"; exit 1; }
		continue
	fi
	if [ -z "${MASTER_SITES}" ]; then
		echo "===>  ${PKGNAME}: cannot fetch $f: not in DISTDIR ($dst) nor in $src, and no MASTER_SITES" >&2
		exit 1
	fi
	tried=
	ok=
	for site in ${MASTER_SITES}; do
		site=$(printf '%s\n' "$site" | sed 's,/:[^/]*$,/,')
		url="$site$f"
		echo "===>  Fetching $url"
		if msg=$(download "$tmp" "$url" 2>&1); then
			mv -f "$tmp" "$dst/$f" || { rm -f "$tmp"; exit 1; }
			ok=1
			break
		fi
		rm -f "$tmp"
		msg=$(printf '%s' "$msg" | tr '\n' ' ')
		echo "=> $url: ${msg:-failed}" >&2
		tried="$tried $url"
	done
	if [ -z "$ok" ]; then
		echo "===>  ${PKGNAME}: cannot fetch $f: tried$tried" >&2
		exit 1
	fi
done
