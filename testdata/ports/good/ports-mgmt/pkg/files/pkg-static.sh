#!/bin/sh
# pkg-static -- the package tool of the dsynth test and example ports trees:
# a POSIX sh implementation of the pkg(8) commands dsynth uses.
#
#   pkg-static [-r ROOTDIR] add [-f] [-q] FILE...
#   pkg-static [-r ROOTDIR] info [-e] [PKG|ORIGIN]
#   pkg-static [-r ROOTDIR] delete [-y] [-f] PKG|ORIGIN...
#   pkg-static [-r ROOTDIR] query FORMAT [PKG|ORIGIN]   (%n %v %o %F %p)
#   pkg-static repo [-q] [-o OUTDIR] REPODIR [rsa:KEYFILE | signing_command: CMD...]
#   pkg-static -v
#
# `repo` writes pkg's repository catalog for the packages under REPODIR
# (hidden folders skipped) into OUTDIR (default REPODIR): meta.conf and
# packagesite.pkg, a tar archive holding packagesite.yaml (one compact JSON
# manifest per package with its path, size and SHA-256, as pkg writes it).
# Signed as pkg signs: with rsa:KEYFILE the archive also holds `signature`,
# the RSA-SHA256 signature of the catalog's hex SHA-256 (openssl dgst);
# with signing_command: the command gets that hex SHA-256 on stdin and
# answers SIGNATURE, the signature, CERT, the public key, END; the archive
# then holds packagesite.yaml.sig and packagesite.yaml.pub.
#
# A package is a tar archive (plain, gzip, xz, bzip2 or zstd) whose first
# member +MANIFEST has "key: value" lines (name, version, origin, flavor,
# prefix, comment, option:, dep: NAME VERSION ORIGIN, file:); the other
# members are the files as paths relative to /. `add` extracts the files
# into ROOTDIR (default /), skipping +* members, and registers the package
# in ROOTDIR${PKG_DBDIR:-/var/db/pkg}/NAME/ (+MANIFEST, +FILES). A missing
# dependency is added first from the same directory as FILE
# (NAME-VERSION<same suffix>), as pkg add does; without it, add fails.
# The directories add creates are kept in +DIRS; `delete` removes the
# package's files, then those directories when they are empty, as pkg
# does. A package's +INSTALL script runs after extraction as
# "+INSTALL NAME-VERSION POST-INSTALL", its +DEINSTALL as
# "+DEINSTALL NAME-VERSION DEINSTALL" before and "... POST-DEINSTALL"
# after deletion, with PKG_PREFIX (the package's prefix) and PKG_ROOTDIR
# (ROOTDIR) in the environment; a failing script is reported, as pkg
# reports it, and the package stays (or is gone).
# PKG (a package) matches NAME, NAME-VERSION, ORIGIN or ORIGIN@FLAVOR.
# awk may be a Debian alternative (/etc/alternatives) a slot lacks.
AWK=$(command -v awk || command -v mawk || command -v gawk || command -v original-awk) || AWK=awk

PKG_TOOL_VERSION=1.0.0
ROOTDIR=

die() {
	echo "pkg-static: $*" >&2
	exit 1
}

usage() {
	cat >&2 <<'USAGE'
usage: pkg-static [-r rootdir] add [-f] [-q] file...
       pkg-static [-r rootdir] info [-e] [pkg|origin]
       pkg-static [-r rootdir] delete [-y] [-f] pkg|origin...
       pkg-static [-r rootdir] query format [pkg|origin]
       pkg-static repo [-q] [-o outdir] repodir [rsa:keyfile | signing_command: cmd]
       pkg-static -v
USAGE
	exit 64
}

dbdir() {
	echo "${ROOTDIR}${PKG_DBDIR:-/var/db/pkg}"
}

# field KEY FILE: the value of the first "KEY: " line.
field() {
	"$AWK" -v k="$1: " 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$2"
}

# registry: one line per installed package:
# DIR<tab>NAME<tab>VERSION<tab>ORIGIN<tab>FLAVOR (one awk for all of them).
registry() {
	set -- "$(dbdir)"/*/+MANIFEST
	[ -f "$1" ] || return 0
	"$AWK" 'FNR == 1 { if (f != "") print d "\t" n "\t" v "\t" o "\t" fl
		f = FILENAME; d = f; sub(/\/\+MANIFEST$/, "", d); n = v = o = fl = "" }
	/^name: / && n == "" { n = substr($0, 7) }
	/^version: / && v == "" { v = substr($0, 10) }
	/^origin: / && o == "" { o = substr($0, 9) }
	/^flavor: / && fl == "" { fl = substr($0, 9) }
	END { if (f != "") print d "\t" n "\t" v "\t" o "\t" fl }' "$@"
}

# find_pkg PATTERN: print the registry directory of the first installed
# package matching PATTERN; fail when none does.
find_pkg() {
	registry | "$AWK" -F '\t' -v p="$1" '
		$2 == p || $2 "-" $3 == p || $4 == p || $4 "@" $5 == p { print $1; found = 1; exit }
		END { exit !found }'
}

# archive_manifest FILE: print the +MANIFEST of a package file.
archive_manifest() {
	tar -xOf "$1" +MANIFEST 2>/dev/null
}

suffix_of() {
	case $1 in
	*.tar.gz) echo .tar.gz ;;
	*.tar.xz) echo .tar.xz ;;
	*.tar.bz2) echo .tar.bz2 ;;
	*.tar.zst) echo .tar.zst ;;
	*) echo ".${1##*.}" ;;
	esac
}

# add_one FILE DEPTH
add_one() {
	file=$1
	depth=$2
	[ "$depth" -gt 64 ] && die "$file: dependency chain too deep (cycle?)"
	[ -f "$file" ] || die "$file: no such package file"
	tmpm=$(mktemp) || die "mktemp failed"
	if ! archive_manifest "$file" > "$tmpm" || [ ! -s "$tmpm" ]; then
		rm -f "$tmpm"
		die "$file: not a package (no +MANIFEST)"
	fi
	name=$(field name "$tmpm")
	version=$(field version "$tmpm")
	[ -n "$name" ] && [ -n "$version" ] || { rm -f "$tmpm"; die "$file: +MANIFEST has no name or version"; }
	if old=$(find_pkg "$name"); then
		if [ "$(field version "$old/+MANIFEST")" = "$version" ] && [ -z "$FORCE" ]; then
			[ -n "$QUIET" ] || echo "$name-$version already installed"
			rm -f "$tmpm"
			return 0
		fi
		delete_dir "$old"
	fi
	# dependencies first
	sfx=$(suffix_of "$file")
	sed -n 's/^dep: //p' "$tmpm" | while read -r dn dv dorigin; do
		find_pkg "$dn" > /dev/null && continue
		depfile="$(dirname "$file")/$dn-$dv$sfx"
		if [ -f "$depfile" ]; then
			(add_one "$depfile" $((depth + 1))) || exit 1
		elif [ -z "$FORCE" ]; then
			echo "pkg-static: $name-$version: missing dependency $dn-$dv ($dorigin): $depfile not found" >&2
			exit 1
		fi
	done || { rm -f "$tmpm"; exit 1; }
	[ -n "$QUIET" ] || echo "Installing $name-$version..."
	root=${ROOTDIR:-/}
	mkdir -p "$root" || die "cannot create $root"
	tmpd=$(mktemp) || die "mktemp failed"
	tar -tf "$file" | "$AWK" '!/^\+/ { n = split($0, p, "/"); d = ""
		for (i = 1; i < n; i++) if (p[i] != "") { d = d (d == "" ? "" : "/") p[i]; print d } }' |
		LC_ALL=C sort -u | while IFS= read -r d; do
			[ -d "${ROOTDIR:-}/$d" ] || echo "$d"
		done > "$tmpd"
	if ! tar -xf "$file" -C "$root" --anchored --exclude='+*' \
		--no-overwrite-dir; then
		rm -f "$tmpm"
		die "$file: extraction into $root failed"
	fi
	reg="$(dbdir)/$name"
	mkdir -p "$reg" || die "cannot create $reg"
	cp "$tmpm" "$reg/+MANIFEST"
	tar -tf "$file" | grep -v '^+' > "$reg/+FILES"
	mv "$tmpd" "$reg/+DIRS"
	for sc in +INSTALL +DEINSTALL; do
		if tar -tf "$file" "$sc" > /dev/null 2>&1; then
			tar -xOf "$file" "$sc" > "$reg/$sc" && chmod 555 "$reg/$sc"
		fi
	done
	prefix=$(field prefix "$tmpm")
	rm -f "$tmpm"
	run_script "$reg/+INSTALL" "$name-$version" POST-INSTALL "$prefix"
	return 0
}

# run_script SCRIPT PKGNAME PHASE PREFIX: run a package's install script
# when it has one; a failure is reported, not fatal.
run_script() {
	[ -f "$1" ] || return 0
	if ! PKG_PREFIX="${ROOTDIR:-}$4" PKG_ROOTDIR="${ROOTDIR:-/}" /bin/sh "$1" "$2" "$3"; then
		echo "pkg-static: $2: $3 script failed" >&2
	fi
	return 0
}

# delete_dir REGDIR: remove the files of a registered package and its entry.
delete_dir() {
	reg=$1
	m="$reg/+MANIFEST"
	pv="$(field name "$m")-$(field version "$m")"
	prefix=$(field prefix "$m")
	run_script "$reg/+DEINSTALL" "$pv" DEINSTALL "$prefix"
	if [ -f "$reg/+FILES" ]; then
		while IFS= read -r f; do
			rm -f "${ROOTDIR:-}/$f"
		done < "$reg/+FILES"
	fi
	# Deepest first: a directory sorts after its parent.
	if [ -f "$reg/+DIRS" ]; then
		LC_ALL=C sort -r "$reg/+DIRS" | while IFS= read -r d; do
			rmdir "${ROOTDIR:-}/$d" 2> /dev/null
		done
	fi
	if [ -f "$reg/+DEINSTALL" ]; then
		cp "$reg/+DEINSTALL" "$reg.deinstall.$$"
		rm -rf "$reg"
		run_script "$reg.deinstall.$$" "$pv" POST-DEINSTALL "$prefix"
		rm -f "$reg.deinstall.$$"
		return 0
	fi
	rm -rf "$reg"
}

cmd_add() {
	FORCE=
	QUIET=
	while getopts fqAI o; do
		case $o in
		f) FORCE=yes ;;
		q) QUIET=yes ;;
		A | I) ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	for f in "$@"; do
		(add_one "$f" 0) || exit 1
	done
}

cmd_info() {
	exists=
	while getopts eEq o; do
		case $o in
		e | E) exists=yes ;;
		q) ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	if [ $# -eq 0 ]; then
		[ -n "$exists" ] && usage
		for m in "$(dbdir)"/*/+MANIFEST; do
			[ -f "$m" ] || continue
			printf '%-32s %s\n' "$(field name "$m")-$(field version "$m")" "$(field comment "$m")"
		done
		return 0
	fi
	rc=0
	for p in "$@"; do
		if reg=$(find_pkg "$p"); then
			[ -n "$exists" ] || cat "$reg/+MANIFEST"
		else
			[ -n "$exists" ] || echo "pkg-static: No package(s) matching $p" >&2
			rc=1
		fi
	done
	return $rc
}

cmd_delete() {
	while getopts yfq o; do
		case $o in
		y | f | q) ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	for p in "$@"; do
		reg=$(find_pkg "$p") || die "No package(s) matching $p"
		m="$reg/+MANIFEST"
		echo "Deinstalling $(field name "$m")-$(field version "$m")..."
		delete_dir "$reg"
	done
}

cmd_query() {
	[ $# -ge 1 ] || usage
	fmt=$1
	shift
	if [ $# -eq 0 ]; then
		set -- "$(dbdir)"/*/+MANIFEST
	else
		p=$1
		reg=$(find_pkg "$p") || return 1
		set -- "$reg/+MANIFEST"
	fi
	for m in "$@"; do
		[ -f "$m" ] || continue
		printf '%s\n' "$fmt" | sed \
			-e "s|%n|$(field name "$m")|g" \
			-e "s|%v|$(field version "$m")|g" \
			-e "s|%o|$(field origin "$m")|g" \
			-e "s|%F|$(field flavor "$m")|g" \
			-e "s|%p|$(field prefix "$m")|g"
	done
}

# manifest_json FILE PATH SUM SIZE FLATSIZE: the compact JSON manifest of a
# package (+MANIFEST "key: value" lines) for packagesite.yaml.
manifest_json() {
	archive_manifest "$1" | "$AWK" -v path="$2" -v sum="$3" -v size="$4" -v flat="$5" '
	function esc(s) {
		gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); gsub(/\r/, "\\r", s)
		return "\"" s "\""
	}
	/^name: / && name == "" { name = substr($0, 7) }
	/^version: / && version == "" { version = substr($0, 10) }
	/^origin: / && origin == "" { origin = substr($0, 9) }
	/^flavor: / && flavor == "" { flavor = substr($0, 9) }
	/^prefix: / && prefix == "" { prefix = substr($0, 9) }
	/^comment: / && comment == "" { comment = substr($0, 10) }
	/^maintainer: / && maint == "" { maint = substr($0, 13) }
	/^option: / { split(substr($0, 9), o, " "); opts = opts (opts == "" ? "" : ",") esc(o[1]) ":" esc(o[2]) }
	/^dep: / { split(substr($0, 6), d, " "); deps = deps (deps == "" ? "" : ",") esc(d[1]) ":{\"origin\":" esc(d[3]) ",\"version\":" esc(d[2]) "}" }
	END {
		if (name == "" || version == "") exit 1
		cat = origin; sub(/\/.*/, "", cat)
		printf "{\"name\":%s,\"origin\":%s,\"version\":%s,\"comment\":%s,\"maintainer\":%s,\"prefix\":%s", esc(name), esc(origin), esc(version), esc(comment), esc(maint), esc(prefix)
		printf ",\"sum\":%s,\"flatsize\":%d,\"path\":%s,\"repopath\":%s,\"licenselogic\":\"single\",\"pkgsize\":%d", esc(sum), flat, esc(path), esc(path), size
		printf ",\"categories\":[%s]", esc(cat)
		if (deps != "") printf ",\"deps\":{%s}", deps
		if (opts != "") printf ",\"options\":{%s}", opts
		if (flavor != "") printf ",\"annotations\":{\"flavor\":%s}", esc(flavor)
		printf "}\n"
	}'
}

cmd_repo() {
	out=
	QUIET=
	while getopts qo:m:lL o; do
		case $o in
		q) QUIET=yes ;;
		o) out=${OPTARG%/} ;;
		m | l | L) ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -ge 1 ] || usage
	repo=${1%/}
	shift
	[ -d "$repo" ] || die "repo: $repo: not a directory"
	[ -n "$out" ] || out=$repo
	mkdir -p "$out" || die "repo: cannot create $out"
	key=
	signcmd=
	case ${1:-} in
	'') ;;
	rsa:*) key=${1#rsa:}; [ -r "$key" ] || die "repo: cannot read signing key $key" ;;
	signing_command:) shift; signcmd=$*; [ -n "$signcmd" ] || die "repo: signing_command: needs a command" ;;
	signing_command:*) signcmd=${1#signing_command:}; shift; signcmd="$signcmd${*:+ $*}" ;;
	*) die "repo: unknown signing method $1 (rsa:KEYFILE or signing_command: CMD)" ;;
	esac
	work=$(mktemp -d) || die "mktemp failed"
	trap 'rm -rf "$work"' EXIT
	n=0
	(cd "$repo" && find . -path './.*' -prune -o -type f \( -name '*.pkg' -o -name '*.txz' \
		-o -name '*.tzst' -o -name '*.tgz' -o -name '*.tbz' -o -name '*.tar' \) -print) |
		sed 's|^\./||' | grep -v -x -e 'packagesite\..*' -e 'meta\..*' -e 'data\..*' \
		-e 'digests\..*' -e 'filesite\..*' | LC_ALL=C sort > "$work/list"
	: > "$work/packagesite.yaml"
	while IFS= read -r f; do
		sum=$(sha256sum < "$repo/$f" | cut -d' ' -f1)
		size=$(wc -c < "$repo/$f" | tr -d ' ')
		flat=$(tar -tvf "$repo/$f" 2>/dev/null | "$AWK" '$NF !~ /^\+/ { s += $3 } END { print s + 0 }')
		manifest_json "$repo/$f" "$f" "$sum" "$size" "$flat" >> "$work/packagesite.yaml" ||
			die "repo: $f: not a package (no +MANIFEST name and version)"
		n=$((n + 1))
	done < "$work/list"
	members=packagesite.yaml
	sum=$(sha256sum < "$work/packagesite.yaml" | cut -d' ' -f1)
	if [ -n "$key" ]; then
		printf '%s' "$sum" | openssl dgst -sha256 -sign "$key" -binary > "$work/signature" ||
			die "repo: signing with $key failed"
		members="$members signature"
	elif [ -n "$signcmd" ]; then
		printf '%s\n' "$sum" | sh -c "$signcmd" > "$work/reply" || die "repo: signing_command failed: $signcmd"
		head -n 1 "$work/reply" | grep -qx SIGNATURE || die "repo: signing_command did not answer SIGNATURE first"
		cert=$(grep -abx CERT "$work/reply" | tail -n 1 | cut -d: -f1)
		end=$(grep -abx END "$work/reply" | tail -n 1 | cut -d: -f1)
		[ -n "$cert" ] && [ -n "$end" ] && [ "$end" -gt "$cert" ] ||
			die "repo: signing_command answer has no CERT ... END"
		head -c $((cert - 1)) "$work/reply" | tail -c +11 > "$work/packagesite.yaml.sig"
		head -c "$end" "$work/reply" | tail -c +$((cert + 6)) > "$work/packagesite.yaml.pub"
		[ -s "$work/packagesite.yaml.sig" ] && [ -s "$work/packagesite.yaml.pub" ] ||
			die "repo: signing_command gave an empty signature or key"
		members="$members packagesite.yaml.sig packagesite.yaml.pub"
	fi
	# shellcheck disable=SC2086
	tar --format=ustar --owner=0 --group=0 --numeric-owner -cf "$work/packagesite.pkg" -C "$work" $members ||
		die "repo: cannot write the catalog archive"
	cat > "$work/meta.conf" <<META
version = 2;
packing_format = "tar";
manifests = "packagesite.yaml";
manifests_archive = "packagesite";
META
	for f in meta.conf packagesite.pkg; do
		cp "$work/$f" "$out/.$f.tmp" && mv -f "$out/.$f.tmp" "$out/$f" || die "repo: cannot write $out/$f"
	done
	[ -n "$QUIET" ] || echo "Packing files for repository: done ($n packages)"
}

while getopts r:v o; do
	case $o in
	r) ROOTDIR=${OPTARG%/} ;;
	v) echo "$PKG_TOOL_VERSION"; exit 0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
cmd=$1
shift
OPTIND=1
case $cmd in
add) cmd_add "$@" ;;
info) cmd_info "$@" ;;
delete | remove) cmd_delete "$@" ;;
query) cmd_query "$@" ;;
repo) cmd_repo "$@" ;;
-v | version) echo "$PKG_TOOL_VERSION" ;;
*) usage ;;
esac
