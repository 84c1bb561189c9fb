# bsd.port.mk -- a small ports framework with the semantics of FreeBSD's and
# DragonFly's for everything dsynth relies on. A port's Makefile sets its
# variables, defines any do-*/pre-*/post-* targets, then ends with
#
#   .include "${PORTSDIR}/Mk/bsd.port.mk"
#
# Variables read by dsynth (make -V): PKGNAME PKGVERSION PKGFILE ALLFILES
# DIST_SUBDIR MAKE_JOBS_NUMBER IGNORE FETCH_DEPENDS EXTRACT_DEPENDS
# PATCH_DEPENDS BUILD_DEPENDS LIB_DEPENDS RUN_DEPENDS TEST_DEPENDS
# SELECTED_OPTIONS DESELECTED_OPTIONS FLAVORS USES (and FLAVOR, PKGORIGIN,
# OPTIONS_NAME, WRKDIR, STAGEDIR).
#
# Phase targets, in dsynth's order; each can be run alone and is idempotent
# (cookies in ${WRKDIR}); a later one runs the earlier ones it needs:
#   check-sanity pkg-depends fetch-depends fetch checksum extract-depends
#   extract patch-depends patch build-depends lib-depends configure build
#   run-depends stage check-plist package; also test-depends test stage-qa
#   clean. check-plist and stage-qa are dsynth test's checks (see
#   docs/ports.md).
# The *-depends targets only check that dependencies are installed (they
# never build them): dsynth installs every dependency first.
#
# Environment a build needs: PORTSDIR (always), and usually WRKDIRPREFIX,
# DISTDIR, PACKAGES, LOCALBASE, PORT_DBDIR, PKG_DBDIR, PKG_SUFX,
# SOURCE_DATE_EPOCH, MAKE_JOBS_NUMBER. See docs/ports.md.

.include "${PORTSDIR}/Mk/bsd.port.options.mk"

# ---- names and versions ----------------------------------------------------
PORTREVISION?=	0
PORTEPOCH?=	0
DISTVERSION?=	${PORTVERSION}
PKGNAMEPREFIX?=
PKGNAMESUFFIX?=
COMMENT?=	${PORTNAME}
MAINTAINER?=	ports@example.org

_DEPENDS_KINDS=	PKG FETCH EXTRACT PATCH BUILD LIB RUN TEST
.for _k in ${_DEPENDS_KINDS}
${_k}_DEPENDS?=
.endfor

# Per-flavor helpers: <flavor>_PKGNAMEPREFIX, <flavor>_PKGNAMESUFFIX,
# <flavor>_<KIND>_DEPENDS.
.if !empty(FLAVOR)
.  for _v in PKGNAMEPREFIX PKGNAMESUFFIX
.    if defined(${FLAVOR}_${_v})
${_v}=	${${FLAVOR}_${_v}}
.    endif
.  endfor
.  for _k in ${_DEPENDS_KINDS}
.    if defined(${FLAVOR}_${_k}_DEPENDS)
${_k}_DEPENDS+=	${${FLAVOR}_${_k}_DEPENDS}
.    endif
.  endfor
.endif

.if ${PORTREVISION} != 0
_SUF1=	_${PORTREVISION}
.endif
.if ${PORTEPOCH} != 0
_SUF2=	,${PORTEPOCH}
.endif
PKGVERSION=	${PORTVERSION:C/[-_,]/./g}${_SUF1}${_SUF2}
PKGBASE?=	${PKGNAMEPREFIX}${PORTNAME}${PKGNAMESUFFIX}
PKGNAME=	${PKGBASE}-${PKGVERSION}
DISTNAME?=	${PORTNAME}-${DISTVERSION}

# ---- IGNORE / BROKEN ---------------------------------------------------------
.if defined(BROKEN) && !empty(BROKEN) && !defined(TRYBROKEN)
IGNORE=		is marked as broken: ${BROKEN}
.endif
.if defined(ONLY_FOR_ARCHS) && empty(ONLY_FOR_ARCHS:M${ARCH})
IGNORE=		is only for ${ONLY_FOR_ARCHS}, while you are running ${ARCH}
.endif
.if defined(NOT_FOR_ARCHS) && !empty(NOT_FOR_ARCHS:M${ARCH})
IGNORE=		does not run on ${NOT_FOR_ARCHS}, while you are running ${ARCH}
.endif

# ---- directories -------------------------------------------------------------
.if !empty(FLAVOR)
_WRKDIR=	work-${FLAVOR}
.else
_WRKDIR=	work
.endif
WRKDIR?=	${WRKDIRPREFIX}${.CURDIR}/${_WRKDIR}
WRKSRC?=	${WRKDIR}/${DISTNAME}
STAGEDIR?=	${WRKDIR}/stage
SRCDIR?=	${MASTERDIR}/src
DISTFILES_SRC?=	${MASTERDIR}/dist
PKGREPOSITORY?=	${PACKAGES}/All
PKGFILE?=	${PKGREPOSITORY}/${PKGNAME}${PKG_SUFX}

# Distfiles. Unlike the real framework DISTFILES defaults to empty: these
# trees keep their sources in ${SRCDIR} (copied at extract) or their
# distfiles in ${DISTFILES_SRC} (copied into DISTDIR by fetch) or name
# MASTER_SITES to download them from.
DISTFILES?=
PATCHFILES?=
DIST_SUBDIR?=
MASTER_SITES?=
FETCH_REGET?=	1
EXTRACT_ONLY?=	${DISTFILES:C/:[^:]+$//}
ALLFILES?=	${DISTFILES:C/:[^:]+$//} ${PATCHFILES:C/:[^:]+$//}
ALLFILES:=	${ALLFILES:u}
.if !empty(DIST_SUBDIR)
_DISTDIR=	${DISTDIR}/${DIST_SUBDIR}
.else
_DISTDIR=	${DISTDIR}
.endif
DISTINFO_FILE?=	${MASTERDIR}/distinfo

# ---- jobs ------------------------------------------------------------------
.if defined(MAKE_JOBS_UNSAFE) || defined(DISABLE_MAKE_JOBS)
MAKE_JOBS_NUMBER=	1
.else
MAKE_JOBS_NUMBER?=	1
.endif
_MAKE_JOBS=	-j${MAKE_JOBS_NUMBER}

# ---- USES ------------------------------------------------------------------
USES?=
.if !empty(USES:Mmetaport)
NO_BUILD=	yes
NO_INSTALL=	yes
NO_PACKAGE_FILE=	yes
.endif

# ---- tools and flags -------------------------------------------------------
SH?=		/bin/sh
SETENV?=	env
ECHO_MSG?=	echo
MKDIR?=		mkdir -p
INSTALL?=	install
INSTALL_PROGRAM?=	${INSTALL} -m 555
INSTALL_SCRIPT?=	${INSTALL} -m 555
INSTALL_LIB?=	${INSTALL} -m 444
INSTALL_DATA?=	${INSTALL} -m 444
INSTALL_MAN?=	${INSTALL} -m 444
PATCH?=		patch
PATCH_STRIP?=	-p0
PATCH_ARGS?=	-d ${WRKSRC} -E -s --forward ${PATCH_STRIP}
# -r: the port's own Makefile does not get the host's sys.mk (Debian's adds
# -nostdinc when DESTDIR is set); CC, CFLAGS etc. come from MAKE_ENV.
MAKE_CMD?=	${MAKE} -r
ALL_TARGET?=	all
INSTALL_TARGET?=	install
# TEST_TARGET has no default: as in FreeBSD, a port that names no test
# target (and defines no do-test) passes its test phase doing nothing.
CONFIGURE_SCRIPT?=	configure
CONFIGURE_ARGS?=
CC?=		cc
# In a Linux chroot without /etc/alternatives, cc is a dangling link.
.if ${CC:[1]} == "cc" && !exists(/usr/bin/cc) && exists(/usr/bin/gcc)
CC:=		gcc ${CC:[2..-1]}
.endif
CFLAGS?=	-O2 -pipe
# Debian's bmake sys.mk defaults CFLAGS to -g; use the BSD default instead.
.if ${CFLAGS} == "-g"
CFLAGS=		-O2 -pipe
.endif
CPPFLAGS?=
LDFLAGS?=
# Reproducible objects: no build path inside them.
CFLAGS+=	-ffile-prefix-map=${WRKDIR}=.

# As in the real framework, each USES entry (its arguments after ":"
# left out) includes Mk/Uses/<name>.mk when there is one; .MAKE.MAKEFILES
# then lists it.
.for _u in ${USES:C/:.*//:O:u}
.  if exists(${PORTSDIR}/Mk/Uses/${_u}.mk)
.    include "${PORTSDIR}/Mk/Uses/${_u}.mk"
.  endif
.endfor

.if !empty(USES:Mlocalbase*)
CPPFLAGS+=	-I${LOCALBASE}/include
LDFLAGS+=	-L${LOCALBASE}/lib
# The real OS (not the OPSYS stand-in): Linux has no ldconfig hints for
# ${LOCALBASE}/lib in a slot, so programs carry an rpath.
.  if ${.MAKE.OS:U} == "Linux"
LDFLAGS+=	-Wl,-rpath,${LOCALBASE}/lib
.  endif
.endif

# Option helpers: <OPT>_<KIND>_DEPENDS, <OPT>_CFLAGS, <OPT>_CPPFLAGS,
# <OPT>_LDFLAGS, <OPT>_MAKE_ARGS, <OPT>_MAKE_ENV, <OPT>_PLIST_FILES,
# <OPT>_CONFIGURE_ON/<OPT>_CONFIGURE_OFF, <OPT>_CONFIGURE_ENABLE/_WITH, and
# PLIST_SUB %%OPT%% / %%NO_OPT%%.
PLIST_SUB?=
PLIST_FILES?=
MAKE_ARGS?=
MAKE_ENV?=
.for _o in ${SELECTED_OPTIONS}
.  for _k in ${_DEPENDS_KINDS}
.    if defined(${_o}_${_k}_DEPENDS)
${_k}_DEPENDS+=	${${_o}_${_k}_DEPENDS}
.    endif
.  endfor
.  for _v in CFLAGS CPPFLAGS LDFLAGS MAKE_ARGS MAKE_ENV PLIST_FILES
.    if defined(${_o}_${_v})
${_v}+=	${${_o}_${_v}}
.    endif
.  endfor
.  if defined(${_o}_CONFIGURE_ON)
CONFIGURE_ARGS+=	${${_o}_CONFIGURE_ON}
.  endif
.  for _e in ${${_o}_CONFIGURE_ENABLE}
CONFIGURE_ARGS+=	--enable-${_e}
.  endfor
.  for _e in ${${_o}_CONFIGURE_WITH}
CONFIGURE_ARGS+=	--with-${_e}
.  endfor
PLIST_SUB+=	${_o}="" NO_${_o}="@comment "
.endfor
.for _o in ${DESELECTED_OPTIONS}
.  if defined(${_o}_CONFIGURE_OFF)
CONFIGURE_ARGS+=	${${_o}_CONFIGURE_OFF}
.  endif
.  for _e in ${${_o}_CONFIGURE_ENABLE}
CONFIGURE_ARGS+=	--disable-${_e}
.  endfor
.  for _e in ${${_o}_CONFIGURE_WITH}
CONFIGURE_ARGS+=	--without-${_e}
.  endfor
PLIST_SUB+=	${_o}="@comment " NO_${_o}=""
.endfor
PLIST_SUB+=	PORTVERSION="${PORTVERSION}" PORTNAME="${PORTNAME}" FLAVOR="${FLAVOR}" \
		PREFIX="${PREFIX}" LOCALBASE="${LOCALBASE}"

# One space between words in everything dsynth reads.
.for _k in ${_DEPENDS_KINDS}
${_k}_DEPENDS:=	${${_k}_DEPENDS:M*}
.endfor
.for _v in USES FLAVORS ALLFILES PLIST_FILES CONFIGURE_ARGS CFLAGS CPPFLAGS LDFLAGS
${_v}:=		${${_v}:M*}
.endfor

.if defined(GNU_CONFIGURE)
HAS_CONFIGURE=	yes
CONFIGURE_ARGS+=	--prefix=${PREFIX}
.endif

MAKE_ENV+=	CC="${CC}" CFLAGS="${CFLAGS}" CPPFLAGS="${CPPFLAGS}" \
		LDFLAGS="${LDFLAGS}" PREFIX="${PREFIX}" LOCALBASE="${LOCALBASE}" \
		DESTDIR="${STAGEDIR}" MAKE_JOBS_NUMBER="${MAKE_JOBS_NUMBER}"
CONFIGURE_ENV?=
CONFIGURE_ENV+=	CC="${CC}" CFLAGS="${CFLAGS}" CPPFLAGS="${CPPFLAGS}" \
		LDFLAGS="${LDFLAGS}" PREFIX="${PREFIX}" LOCALBASE="${LOCALBASE}"

# ccache (WITH_CCACHE_BUILD and CCACHE_DIR, as FreeBSD's framework and
# poudriere set them): the wrappers go first in the PATH of every command.
# FreeBSD's devel/ccache installs them in ${LOCALBASE}/libexec/ccache;
# Debian, whose compilers the Linux trees use, in /usr/lib/ccache.
.if defined(WITH_CCACHE_BUILD) && !defined(NO_CCACHE)
CCACHE_WRAPPER_PATH?=	/usr/lib/ccache
.  if exists(${CCACHE_WRAPPER_PATH})
PATH:=		${CCACHE_WRAPPER_PATH}:${PATH}
.export PATH
.  endif
.endif

# ---- cookies -----------------------------------------------------------------
_COOKIE_SFX=	${PKGNAME}
EXTRACT_COOKIE?=	${WRKDIR}/.extract_done.${_COOKIE_SFX}
PATCH_COOKIE?=	${WRKDIR}/.patch_done.${_COOKIE_SFX}
CONFIGURE_COOKIE?=	${WRKDIR}/.configure_done.${_COOKIE_SFX}
BUILD_COOKIE?=	${WRKDIR}/.build_done.${_COOKIE_SFX}
STAGE_COOKIE?=	${WRKDIR}/.stage_done.${_COOKIE_SFX}
PACKAGE_COOKIE?=	${WRKDIR}/.package_done.${_COOKIE_SFX}

_SCRIPT_ENV=	PORTSDIR="${PORTSDIR}" LOCALBASE="${LOCALBASE}" \
		PKG_DBDIR="${PKG_DBDIR}" PKGNAME="${PKGNAME}"

# ---- targets -------------------------------------------------------------------
.PHONY: check-sanity fetch checksum extract patch configure build stage \
	check-plist stage-qa package test clean pre-everything \
	pkg-depends fetch-depends extract-depends patch-depends build-depends \
	lib-depends run-depends test-depends

.MAIN: all
all: build

check-sanity:
.if defined(IGNORE) && !empty(IGNORE)
	@${ECHO_MSG} '===>  ${PKGNAME} ${IGNORE:S/'/'\''/g}.' >&2; exit 1
.else
	@:
.endif

.for _k in ${_DEPENDS_KINDS}
${_k:tl}-depends: check-sanity
.  if !empty(${_k}_DEPENDS)
	@${SETENV} ${_SCRIPT_ENV} ${SH} ${SCRIPTSDIR}/depends-check.sh ${_k} \
		${${_k}_DEPENDS:@w@'${w}'@}
.  endif
.endfor

# fetch: put each distfile missing from ${DISTDIR}/${DIST_SUBDIR} there:
# copied from ${DISTFILES_SRC}/<file> when the port ships it, else
# downloaded from ${MASTER_SITES} (site URL + file name, as in the real
# framework). Atomic rename, safe with several workers.
_FETCH_ENV=	DISTFILES_SRC=${DISTFILES_SRC:Q} MASTER_SITES=${MASTER_SITES:Q} \
		SCRIPTSDIR=${SCRIPTSDIR:Q} FETCH_REGET=${FETCH_REGET:Q}
fetch: fetch-depends
.if !empty(ALLFILES)
	@${SETENV} ${_SCRIPT_ENV} ${_FETCH_ENV} ${SH} ${SCRIPTSDIR}/do-fetch.sh \
		'${DISTFILES_SRC}' '${_DISTDIR}' ${ALLFILES:@w@'${w}'@}
.endif

# checksum: the distinfo SHA256 lines; a mismatching file is removed and
# fetched again FETCH_REGET times (default 1), then removed and the
# target fails.
checksum: fetch
.if !empty(ALLFILES) && exists(${DISTINFO_FILE})
	@${SETENV} ${_SCRIPT_ENV} ${_FETCH_ENV} ${SH} ${SCRIPTSDIR}/do-checksum.sh \
		'${DISTINFO_FILE}' '${_DISTDIR}' '${DIST_SUBDIR}' \
		${ALLFILES:@w@'${w}'@}
.endif

# Default do-* targets (a port defines its own before including us).
.for _t in extract patch configure build install test
.  if !target(pre-${_t})
pre-${_t}:
	@:
.  endif
.  if !target(post-${_t})
post-${_t}:
	@:
.  endif
.endfor

.if !target(do-extract)
do-extract:
	@${MKDIR} ${WRKSRC}
.  for _f in ${EXTRACT_ONLY}
	@case '${_f}' in \
	*.tar|*.tar.gz|*.tgz|*.tar.xz|*.txz|*.tar.bz2|*.tbz|*.tar.zst|*.tzst) \
		tar -xf '${_DISTDIR}/${_f}' -C '${WRKDIR}' ;; \
	*) cp '${_DISTDIR}/${_f}' '${WRKSRC}/' ;; \
	esac
.  endfor
.  if exists(${SRCDIR})
	@cp -R '${SRCDIR}/.' '${WRKSRC}/'
.  endif
.endif

.if !target(do-patch)
do-patch:
	@for p in ${PATCHDIR}/patch-*; do \
		[ -f "$$p" ] || continue; \
		${ECHO_MSG} "===>  Applying patch $${p##*/}"; \
		${PATCH} ${PATCH_ARGS} < "$$p" || exit 1; \
	done
.endif

.if !target(do-configure)
do-configure:
.  if defined(HAS_CONFIGURE)
	@cd ${WRKSRC} && ${SETENV} ${CONFIGURE_ENV} ${SH} ./${CONFIGURE_SCRIPT} \
		${CONFIGURE_ARGS}
.  else
	@:
.  endif
.endif

.if !target(do-build)
do-build:
.  if defined(NO_BUILD)
	@:
.  else
	@cd ${WRKSRC} && ${SETENV} ${MAKE_ENV} ${MAKE_CMD} ${_MAKE_JOBS} \
		${MAKE_ARGS} ${ALL_TARGET}
.  endif
.endif

.if !target(do-install)
do-install:
.  if defined(NO_INSTALL)
	@:
.  else
	@cd ${WRKSRC} && ${SETENV} ${MAKE_ENV} ${MAKE_CMD} ${MAKE_ARGS} \
		${INSTALL_TARGET}
.  endif
.endif

.if !target(do-test)
do-test:
.  if defined(NO_TEST) || defined(NO_BUILD) || !defined(TEST_TARGET)
	@:
.  else
	@cd ${WRKSRC} && ${SETENV} ${MAKE_ENV} ${MAKE_CMD} ${MAKE_ARGS} \
		${TEST_TARGET}
.  endif
.endif

# The cookie-guarded phases. Whether a phase is done is decided when the
# Makefile is read, as in the real framework.
.if exists(${EXTRACT_COOKIE})
extract:
	@:
.else
extract: checksum .WAIT extract-depends .WAIT _extract-start .WAIT \
	pre-extract .WAIT do-extract .WAIT post-extract
	@touch ${EXTRACT_COOKIE}
.endif

_extract-start:
	@${ECHO_MSG} "===>  Extracting for ${PKGNAME}"
	@rm -rf ${WRKDIR}; ${MKDIR} ${WRKDIR}

.if exists(${PATCH_COOKIE})
patch:
	@:
.else
patch: extract .WAIT patch-depends .WAIT pre-patch .WAIT do-patch .WAIT \
	post-patch
	@touch ${PATCH_COOKIE}
.endif

.if exists(${CONFIGURE_COOKIE})
configure:
	@:
.else
configure: patch .WAIT build-depends .WAIT lib-depends .WAIT \
	pre-configure .WAIT do-configure .WAIT post-configure
	@touch ${CONFIGURE_COOKIE}
.endif

.if exists(${BUILD_COOKIE})
build:
	@:
.else
build: configure .WAIT _build-start .WAIT pre-build .WAIT do-build .WAIT \
	post-build
	@touch ${BUILD_COOKIE}
.endif

_build-start:
	@${ECHO_MSG} "===>  Building for ${PKGNAME}"

.if exists(${STAGE_COOKIE})
stage:
	@:
.else
stage: build .WAIT run-depends .WAIT _stage-dir .WAIT pre-install .WAIT \
	do-install .WAIT post-install
	@touch ${STAGE_COOKIE}
.endif

_stage-dir:
	@${ECHO_MSG} "===>  Staging for ${PKGNAME}"
	@rm -rf ${STAGEDIR}; ${MKDIR} ${STAGEDIR}${PREFIX}

check-plist: stage
.if !defined(NO_PACKAGE_FILE)
	@${SETENV} ${_SCRIPT_ENV} STAGEDIR='${STAGEDIR}' PREFIX='${PREFIX}' \
		${SH} ${SCRIPTSDIR}/check-plist.sh '${PLIST}' ${PLIST_SUB} -- \
		${PLIST_FILES:@w@'${w}'@}
.endif

# stage-qa: files outside PREFIX, absolute symlinks into the stage or out
# of PREFIX, scripts whose #! interpreter is nowhere (Scripts/stage-qa.sh).
stage-qa: stage
.if !defined(NO_PACKAGE_FILE)
	@${SETENV} ${_SCRIPT_ENV} STAGEDIR='${STAGEDIR}' PREFIX='${PREFIX}' \
		${SH} ${SCRIPTSDIR}/stage-qa.sh
.endif

PLIST?=		${MASTERDIR}/pkg-plist
# Install and deinstall scripts, as in the real framework: the package
# carries them as +INSTALL and +DEINSTALL; pkg-static add runs
# "+INSTALL PKGNAME POST-INSTALL", delete "+DEINSTALL PKGNAME DEINSTALL"
# (before) and "... POST-DEINSTALL" (after), with PKG_PREFIX set.
PKGDIR?=	${MASTERDIR}
PKGINSTALL?=	${PKGDIR}/pkg-install
PKGDEINSTALL?=	${PKGDIR}/pkg-deinstall

.if exists(${PACKAGE_COOKIE})
package:
	@:
.else
package: stage .WAIT _package
	@touch ${PACKAGE_COOKIE}
.endif

_package:
.if defined(NO_PACKAGE_FILE)
	@${ECHO_MSG} "===>  ${PKGNAME} is a metaport: no package file"
.else
	@${ECHO_MSG} "===>  Building package for ${PKGNAME}"
	@${SETENV} ${_SCRIPT_ENV} STAGEDIR='${STAGEDIR}' WRKDIR='${WRKDIR}' \
		PKGFILE='${PKGFILE}' PKGBASE='${PKGBASE}' \
		PKGVERSION='${PKGVERSION}' PKGORIGIN='${PKGORIGIN}' \
		FLAVOR='${FLAVOR}' PREFIX='${PREFIX}' \
		PKGINSTALL='${PKGINSTALL}' PKGDEINSTALL='${PKGDEINSTALL}' \
		COMMENT='${COMMENT:S/'/'\''/g}' MAINTAINER='${MAINTAINER}' \
		SELECTED_OPTIONS='${SELECTED_OPTIONS}' \
		DESELECTED_OPTIONS='${DESELECTED_OPTIONS}' \
		${SH} ${SCRIPTSDIR}/do-package.sh \
		${LIB_DEPENDS:@w@'${w}'@} ${RUN_DEPENDS:@w@'${w}'@}
.endif

test: stage .WAIT test-depends .WAIT pre-test .WAIT do-test .WAIT post-test

clean:
	@rm -rf ${WRKDIR}

# Used by dsynth-like tools and tests: print a few variables at once.
describe:
	@${ECHO_MSG} '${PKGNAME}|${PKGORIGIN}|${FLAVOR}|${PKGFILE}'
