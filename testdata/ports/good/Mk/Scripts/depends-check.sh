#!/bin/sh
# depends-check.sh KIND ENTRY... -- check that each dependency of one kind
# (FETCH EXTRACT PATCH BUILD LIB RUN TEST PKG) is installed; never build it.
#
# ENTRY is tool:origin[@flavor][:target], origin being category/port or
# ${PORTSDIR}/category/port. The tool decides what "installed" means, as in
# the real framework:
#   LIB_DEPENDS  libfoo.so     a file of that name (glob allowed) in
#                              ${LOCALBASE}/lib or the system library dirs
#   /abs/path                  that path exists
#   name>=1.0, name>0 ...      a package of that name is registered in
#                              ${PKG_DBDIR} (versions are not compared)
#   program                    found in ${LOCALBASE}/bin:${LOCALBASE}/sbin:$PATH
# /nonexistent:... entries are skipped (nothing can satisfy them; dsynth
# ignores them). Environment: LOCALBASE PKG_DBDIR PORTSDIR PKGNAME.
# awk may be a Debian alternative (/etc/alternatives) a slot lacks.
AWK=$(command -v awk || command -v mawk || command -v gawk || command -v original-awk) || AWK=awk
kind=$1
shift
LOCALBASE=${LOCALBASE:-/usr/local}
PKG_DBDIR=${PKG_DBDIR:-/var/db/pkg}
rc=0

registered_name() {
	for m in "$PKG_DBDIR"/*/+MANIFEST; do
		[ -f "$m" ] || return 1
		"$AWK" -v p="$1" '/^name: / && substr($0, 7) == p { found = 1; exit }
		END { exit !found }' "$PKG_DBDIR"/*/+MANIFEST
		return
	done
	return 1
}

for e in "$@"; do
	tool=${e%%:*}
	rest=${e#*:}
	origin=${rest%%:*}
	[ "$tool" = /nonexistent ] && continue
	origin=${origin#"${PORTSDIR}"/}
	found=
	case $kind in
	LIB)
		for d in "$LOCALBASE/lib" /usr/local/lib /usr/lib /lib \
		    /usr/lib/*-linux-gnu /lib/*-linux-gnu; do
			for f in "$d"/$tool; do
				[ -e "$f" ] && { found=$f; break 2; }
			done
		done
		what="library $tool"
		;;
	*)
		case $tool in
		/*)
			[ -e "$tool" ] && found=$tool
			what="file $tool"
			;;
		*[\<\>=]*)
			name=$(printf '%s' "$tool" | sed 's/[<>=].*//')
			registered_name "$name" && found="package $name"
			what="package $tool"
			;;
		*)
			found=$(PATH="$LOCALBASE/bin:$LOCALBASE/sbin:$PATH" \
			    command -v "$tool" 2>/dev/null)
			what="executable $tool"
			;;
		esac
		;;
	esac
	if [ -n "$found" ]; then
		echo "===>   ${PKGNAME} depends on $what - found"
	else
		echo "===>   ${PKGNAME} ${kind}_DEPENDS: $what (from $origin) is not installed; install the package of $origin first" >&2
		rc=1
	fi
done
exit $rc
