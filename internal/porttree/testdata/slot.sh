#!/bin/sh
# slot.sh TREE OUT ORIGIN... -- build ORIGINs (in order) the way a dsynth
# worker does, inside a hand-made chroot slot: tmpfs root, host /usr
# read-only, the tree read-only at /xports, /construction and /usr/local on
# tmpfs, /packages from OUT. ports-mgmt/pkg is built first and extracted
# into the slot root (skipping +* members); each later package is installed
# with /usr/local/sbin/pkg-static add before the next build. Each phase is
# its own make run, in dsynth's order (SLOT_PHASES overrides the list, e.g.
# "package" to run them all in one make). The OS stand-ins are those dsynth
# passes by default (OPSYS=DragonFly). Run it as root
# under `unshare -m -n -f`, so that every mount dies with the namespace.
set -eu
tree=$1
out=$2
shift 2
root=$(mktemp -d)
trap 'umount -R "$root" 2>/dev/null; rmdir "$root"' EXIT
mount --make-rprivate /
mount -t tmpfs tmpfs "$root"
for d in usr xports construction packages distfiles options dev proc tmp etc var/db/pkg; do
	mkdir -p "$root/$d"
done
for l in bin sbin lib lib64; do
	[ -L "/$l" ] && ln -s "usr/$l" "$root/$l"
done
mount --bind /usr "$root/usr"
mount -o remount,bind,ro "$root/usr"
mount --bind "$tree" "$root/xports"
mount -o remount,bind,ro "$root/xports"
mount --bind "$out" "$root/packages"
mount -t tmpfs tmpfs "$root/construction"
mount -t tmpfs tmpfs "$root/usr/local"
mount -t proc proc "$root/proc"
for n in null zero urandom random; do
	touch "$root/dev/$n"
	mount --bind "/dev/$n" "$root/dev/$n"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'wheel:x:0:root' > "$root/etc/group"
chmod 1777 "$root/tmp"

slot() {
	chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/bin \
		HOME=/tmp PORTSDIR=/xports WRKDIRPREFIX=/construction PACKAGES=/packages \
		DISTDIR=/distfiles PORT_DBDIR=/options LOCALBASE=/usr/local BATCH=yes \
		SOURCE_DATE_EPOCH=0 PKG_SUFX=.pkg OPSYS=DragonFly OSVERSION=600400 ARCH="$(uname -m)" \
		_HOST_OSNAME=Linux _HOST_OSREL="$(uname -r)" _HOST_MACHINE="$(uname -m)" \
		_HOST_ARCH="$(uname -m)" "$@"
}
build() {
	for ph in ${SLOT_PHASES:-check-sanity pkg-depends fetch-depends fetch checksum \
		extract-depends extract patch-depends patch build-depends lib-depends \
		configure build run-depends stage check-plist package}; do
		slot bmake -C "/xports/$1" $2 "$ph" > "$root/tmp/log" 2>&1 ||
			{ cat "$root/tmp/log" >&2; echo "slot: $1 failed in $ph" >&2; exit 1; }
	done
	slot bmake -C "/xports/$1" $2 -V '${PKGFILE}'
}
for o in "$@"; do
	origin=${o%@*}
	fl=
	[ "$origin" != "$o" ] && fl="FLAVOR=${o#*@}"
	f=$(build "$origin" "$fl")
	if [ "$origin" = ports-mgmt/pkg ]; then
		tar -xf "$root$f" -C "$root" --anchored --exclude='+*' --no-overwrite-dir
	fi
	if [ -f "$root$f" ]; then
		slot /usr/local/sbin/pkg-static add "$f"
	fi
done
slot /usr/local/sbin/pkg-static info
# SLOT_RUN: a command to run in the slot at the end (e.g. an installed program).
if [ -n "${SLOT_RUN:-}" ]; then
	slot $SLOT_RUN
fi
