#!/bin/sh
# do-package.sh DEPENDS_ENTRY... -- write ${PKGFILE}: a tar archive holding
# +MANIFEST first, then every staged file and symlink (no directories) as a
# relative path from / (usr/local/bin/foo). Compression by suffix: .tar and
# .pkg none, .tgz gzip -n, .txz xz, .tbz bzip2, .tzst zstd. Deterministic:
# sorted names, mtime ${SOURCE_DATE_EPOCH:-0}, owner 0:0, normalised modes.
# Written to a temporary name, then renamed. ${PKGINSTALL} and
# ${PKGDEINSTALL}, when they exist, follow +MANIFEST as +INSTALL and
# +DEINSTALL (the install scripts pkg-static runs).
#
# The arguments are the LIB_DEPENDS and RUN_DEPENDS entries; each becomes a
# "dep:" line naming the installed package (from ${PKG_DBDIR}) of that origin.
# awk may be a Debian alternative (/etc/alternatives) a slot lacks.
AWK=$(command -v awk || command -v mawk || command -v gawk || command -v original-awk) || AWK=awk
set -e
: "${STAGEDIR:?}" "${WRKDIR:?}" "${PKGFILE:?}" "${PKGBASE:?}" "${PKGVERSION:?}"
PKG_DBDIR=${PKG_DBDIR:-/var/db/pkg}
meta=$WRKDIR/.pkg-meta
rm -rf "$meta"
mkdir -p "$meta"

# The registry as ORIGIN<tab>FLAVOR<tab>NAME<tab>VERSION lines (one awk).
reg=$meta/registry
: > "$reg"
for m in "$PKG_DBDIR"/*/+MANIFEST; do
	[ -f "$m" ] || break
	"$AWK" 'FNR == 1 { if (FNR != NR) print o "\t" f "\t" n "\t" v; n = v = o = f = "" }
	/^name: / && n == "" { n = substr($0, 7) }
	/^version: / && v == "" { v = substr($0, 10) }
	/^origin: / && o == "" { o = substr($0, 9) }
	/^flavor: / && f == "" { f = substr($0, 9) }
	END { print o "\t" f "\t" n "\t" v }' "$PKG_DBDIR"/*/+MANIFEST > "$reg"
	break
done

deps=$meta/deps
: > "$deps"
for e in "$@"; do
	tool=${e%%:*}
	rest=${e#*:}
	origin=${rest%%:*}
	[ "$tool" = /nonexistent ] && continue
	origin=${origin#"${PORTSDIR}"/}
	o=${origin%@*}
	fl=
	case $origin in *@*) fl=${origin#*@} ;; esac
	hit=$("$AWK" -F '\t' -v o="$o" -v f="$fl" \
	    '$1 == o && (f == "" || $2 == f) { print $3 " " $4; exit }' "$reg")
	if [ -z "$hit" ]; then
		echo "===>  ${PKGBASE}-${PKGVERSION}: run-time dependency $origin is not installed (in $PKG_DBDIR)" >&2
		exit 1
	fi
	echo "dep: $hit $origin" >> "$deps"
done

list=$meta/files
(cd "$STAGEDIR" && find . \( -type f -o -type l \) | sed 's|^\./||') |
	LC_ALL=C sort > "$list"

{
	echo "name: $PKGBASE"
	echo "version: $PKGVERSION"
	echo "origin: $PKGORIGIN"
	echo "flavor: $FLAVOR"
	echo "prefix: $PREFIX"
	echo "comment: $COMMENT"
	echo "maintainer: $MAINTAINER"
	for o in $SELECTED_OPTIONS; do echo "option: $o on"; done
	for o in $DESELECTED_OPTIONS; do echo "option: $o off"; done | LC_ALL=C sort
	LC_ALL=C sort -u "$deps"
	while IFS= read -r f; do
		if [ -L "$STAGEDIR/$f" ]; then
			echo "file: /$f -> $(readlink "$STAGEDIR/$f")"
		else
			echo "file: /$f $(sha256sum < "$STAGEDIR/$f" | cut -d' ' -f1)"
		fi
	done < "$list"
} > "$meta/+MANIFEST"

case $PKGFILE in
*.tgz|*.tar.gz) compress="gzip -n -9" ;;
*.txz|*.tar.xz) compress="xz -T1 -6" ;;
*.tbz|*.tar.bz2) compress="bzip2 -9" ;;
*.tzst|*.tar.zst) compress="zstd -q -19 --no-progress" ;;
*.tar|*.pkg) compress=cat ;;
*) echo "===>  unknown package suffix: $PKGFILE" >&2; exit 1 ;;
esac

dir=$(dirname "$PKGFILE")
mkdir -p "$dir"
tmp="$dir/.${PKGFILE##*/}.tmp.$$"
trap 'rm -f "$tmp" "$meta/pkg.tar"' EXIT
scripts=
for s in "${PKGINSTALL:-}:+INSTALL" "${PKGDEINSTALL:-}:+DEINSTALL"; do
	src=${s%:*}
	if [ -n "$src" ] && [ -f "$src" ]; then
		cp "$src" "$meta/${s##*:}"
		chmod 555 "$meta/${s##*:}"
		scripts="$scripts ${s##*:}"
	fi
done
# shellcheck disable=SC2086
tar --format=gnu --sort=name --mtime="@${SOURCE_DATE_EPOCH:-0}" \
	--owner=0 --group=0 --numeric-owner --mode='u+rw,go=u-w' \
	--no-recursion -cf "$meta/pkg.tar" -C "$meta" +MANIFEST $scripts \
	-C "$STAGEDIR" -T "$list"
$compress < "$meta/pkg.tar" > "$tmp"
rm -f "$meta/pkg.tar"
mv -f "$tmp" "$PKGFILE"
trap - EXIT
echo "===>  Wrote $PKGFILE"
