#!/bin/sh
# stage-qa.sh -- quality checks of the staged files, as FreeBSD's
# Scripts/qa.sh does them; each problem is one "Error: " line:
#
#   Error: outside PREFIX: /etc/foo.conf
#       a file or symlink staged outside ${PREFIX}
#   Error: absolute symlink into the stage: /usr/local/lib/a -> /construction/.../stage/...
#   Error: absolute symlink outside PREFIX: /usr/local/bin/sh -> /bin/sh
#       a symlink must be relative, or point into ${PREFIX} as installed
#   Error: shebang: /usr/local/bin/tool: interpreter /usr/bin/nope not found
#       an executable script whose interpreter (#!) neither exists in the
#       build environment (the system or a dependency's package) nor is
#       staged by the port itself; for "#!/usr/bin/env NAME", NAME is
#       looked up in PATH, ${PREFIX}/bin and ${PREFIX}/sbin the same way
#
# Environment: STAGEDIR, PREFIX, PKGNAME. Exit status 1 when any check failed.
: "${STAGEDIR:?}" "${PREFIX:?}"
cd "$STAGEDIR" || exit 1
out=$(
	find . \( -type f -o -type l \) | sed 's|^\.||' | LC_ALL=C sort |
		while IFS= read -r f; do
			case $f in
			"$PREFIX"/*) ;;
			*) echo "Error: outside PREFIX: $f" ;;
			esac
			if [ -L "$STAGEDIR$f" ]; then
				t=$(readlink "$STAGEDIR$f")
				case $t in
				"$STAGEDIR" | "$STAGEDIR"/*) echo "Error: absolute symlink into the stage: $f -> $t" ;;
				"$PREFIX"/*) ;;
				/*) echo "Error: absolute symlink outside PREFIX: $f -> $t" ;;
				esac
				continue
			fi
			[ -x "$STAGEDIR$f" ] || continue
			[ "$(head -c 2 "$STAGEDIR$f")" = "#!" ] || continue
			line=$(head -n 1 "$STAGEDIR$f" | cut -c 3-)
			# shellcheck disable=SC2086
			set -- $line
			interp=${1:-}
			what=$interp
			found=
			case $interp in
			'') ;;
			*/env)
				shift
				while [ $# -gt 0 ]; do
					case $1 in -*|*=*) shift ;; *) break ;; esac
				done
				what="${1:-}"
				if [ -n "$what" ] && { [ -e "$interp" ] || [ -e "$STAGEDIR$interp" ]; }; then
					for d in $(echo "$PATH" | tr : ' ') "$PREFIX/bin" "$PREFIX/sbin"; do
						if [ -x "$d/$what" ] || [ -x "$STAGEDIR$d/$what" ]; then
							found=yes
							break
						fi
					done
				fi
				what="$what (through $interp)"
				;;
			*) { [ -e "$interp" ] || [ -e "$STAGEDIR$interp" ]; } && found=yes ;;
			esac
			[ -n "$found" ] || echo "Error: shebang: $f: interpreter $what not found"
		done
)
if [ -n "$out" ]; then
	echo "$out" >&2
	echo "===>  ${PKGNAME}: stage-qa failed: $(echo "$out" | wc -l | tr -d ' ') problem(s)" >&2
	exit 1
fi
echo "===>  ${PKGNAME}: stage-qa OK (files under PREFIX, symlinks, shebang interpreters)"
