# bsd.port.options.mk -- the part of the framework a port may include before
# its own conditionals (like FreeBSD's <bsd.port.options.mk>): defaults, the
# origin, FLAVOR and the options (PORT_OPTIONS, SELECTED_OPTIONS, ...).
#
#   .include "${PORTSDIR}/Mk/bsd.port.options.mk"
#   .if ${PORT_OPTIONS:MDOCS}
#   ...
#   .include "${PORTSDIR}/Mk/bsd.port.mk"
#
# Written for BSD make (bmake >= 20200710, FreeBSD/DragonFly make). No shell
# runs while parsing unless OPSYS/ARCH are not given, so `make -V` is cheap.

.if !defined(_DSYNTH_OPTIONS_MK_INCLUDED)
_DSYNTH_OPTIONS_MK_INCLUDED=	yes

# make.conf: FreeBSD/DragonFly sys.mk reads it already; elsewhere read
# ${__MAKE_CONF} (default /etc/make.conf) here.
.if ${.MAKE.OS:U} != "FreeBSD" && ${.MAKE.OS:U} != "DragonFly"
__MAKE_CONF?=	/etc/make.conf
.  if exists(${__MAKE_CONF})
.    include "${__MAKE_CONF}"
.  endif
.endif

# ---- locations ------------------------------------------------------------
PORTSDIR?=	/usr/ports
LOCALBASE?=	/usr/local
PREFIX?=	${LOCALBASE}
DISTDIR?=	${PORTSDIR}/distfiles
PACKAGES?=	${PORTSDIR}/packages
PORT_DBDIR?=	/var/db/ports
PKG_DBDIR?=	/var/db/pkg
WRKDIRPREFIX?=
MASTERDIR?=	${.CURDIR}
FILESDIR?=	${MASTERDIR}/files
PATCHDIR?=	${MASTERDIR}/files
SCRIPTSDIR?=	${PORTSDIR}/Mk/Scripts
PKG_SUFX?=	.pkg

.if !defined(OPSYS)
OPSYS!=		uname -s
.endif
.if !defined(ARCH)
ARCH!=		uname -m
.endif

# ---- identity --------------------------------------------------------------
PKGCATEGORY?=	${CATEGORIES:[1]}
PORTDIRNAME?=	${.CURDIR:T}
PKGORIGIN?=	${.CURDIR:H:T}/${PORTDIRNAME}

# ---- flavors: the first one is the default ---------------------------------
.if defined(FLAVORS) && !empty(FLAVORS)
.  if !defined(FLAVOR) || empty(FLAVOR)
FLAVOR=		${FLAVORS:[1]}
.  endif
# An empty FLAVOR= given on the command line wins over the assignment above.
.  if empty(FLAVOR)
.MAKEFLAGS:	FLAVOR=${FLAVORS:[1]}
.  endif
.  if empty(FLAVORS:M${FLAVOR})
.    error Unknown flavor '${FLAVOR}', possible flavors: ${FLAVORS}.
.  endif
.else
FLAVORS=
.  if defined(FLAVOR) && !empty(FLAVOR)
.    error Unknown flavor '${FLAVOR}': ${PKGORIGIN} has no flavors.
.  endif
FLAVOR=
.endif

.include "${PORTSDIR}/Mk/bsd.options.mk"

.endif # !_DSYNTH_OPTIONS_MK_INCLUDED
