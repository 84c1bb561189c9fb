# bsd.options.mk -- OPTIONS_DEFINE/OPTIONS_DEFAULT to PORT_OPTIONS,
# SELECTED_OPTIONS and DESELECTED_OPTIONS (both sorted).
#
# Precedence, later wins (as in FreeBSD's bsd.options.mk):
#   1. OPTIONS_DEFAULT                            (the port)
#   2. OPTIONS_SET, then OPTIONS_UNSET            (global, make.conf)
#   3. ${OPTIONS_NAME}_SET, ${OPTIONS_NAME}_UNSET (per port, make.conf/env)
#   4. ${PORT_DBDIR}/${OPTIONS_NAME}/options      (OPTIONS_FILE_SET+= /
#                                                  OPTIONS_FILE_UNSET+= lines)
# OPTIONS_NAME is category_portdir (PKGORIGIN with '/' -> '_'). Options a
# port does not define are dropped. Included by bsd.port.options.mk.

OPTIONS_NAME?=	${PKGORIGIN:S/\//_/}
OPTIONS_FILE?=	${PORT_DBDIR}/${OPTIONS_NAME}/options

# Every option the port knows: OPTIONS_DEFINE plus the members of
# OPTIONS_GROUP/OPTIONS_MULTI/OPTIONS_SINGLE/OPTIONS_RADIO groups.
COMPLETE_OPTIONS_LIST:=	${OPTIONS_DEFINE}
.for _k in GROUP MULTI SINGLE RADIO
.  for _g in ${OPTIONS_${_k}}
COMPLETE_OPTIONS_LIST+=	${OPTIONS_${_k}_${_g}}
.  endfor
.endfor
COMPLETE_OPTIONS_LIST:=	${COMPLETE_OPTIONS_LIST:O:u}
ALL_OPTIONS:=	${COMPLETE_OPTIONS_LIST}

_PORT_OPTS:=	${OPTIONS_DEFAULT}
_PORT_OPTS+=	${OPTIONS_SET}
.for _o in ${OPTIONS_UNSET}
_PORT_OPTS:=	${_PORT_OPTS:N${_o}}
.endfor
_PORT_OPTS+=	${${OPTIONS_NAME}_SET}
.for _o in ${${OPTIONS_NAME}_UNSET}
_PORT_OPTS:=	${_PORT_OPTS:N${_o}}
.endfor
.if exists(${OPTIONS_FILE})
.  include "${OPTIONS_FILE}"
_PORT_OPTS+=	${OPTIONS_FILE_SET}
.  for _o in ${OPTIONS_FILE_UNSET}
_PORT_OPTS:=	${_PORT_OPTS:N${_o}}
.  endfor
.endif

PORT_OPTIONS:=
.for _o in ${_PORT_OPTS:O:u}
.  if !empty(COMPLETE_OPTIONS_LIST:M${_o})
PORT_OPTIONS+=	${_o}
.  endif
.endfor
PORT_OPTIONS:=	${PORT_OPTIONS:O:u}
SELECTED_OPTIONS:=	${PORT_OPTIONS}
DESELECTED_OPTIONS:=
.for _o in ${COMPLETE_OPTIONS_LIST}
.  if empty(PORT_OPTIONS:M${_o})
DESELECTED_OPTIONS+=	${_o}
.  endif
.endfor
DESELECTED_OPTIONS:=	${DESELECTED_OPTIONS:O:u}
