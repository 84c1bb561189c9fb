// Package porttree runs the targets of a ports tree that uses this
// repository's framework (see internal/portgen and docs/ports.md) on the
// host, without isolation: the environment a build needs (PORTSDIR,
// WRKDIRPREFIX, PACKAGES, LOCALBASE, DISTDIR, PORT_DBDIR, PKG_DBDIR, ...)
// pointing into a scratch directory, `make -V`, phase targets, and
// installing packages with the tree's own pkg-static.
//
// It is what the framework's tests use, and a convenience for other
// packages' tests that need real packages from a tree. Builds here use
// LOCALBASE=<root>/usr/local, so package members carry that path
// (tmp/.../usr/local/bin/foo) and are installed with root /; inside a
// dsynth slot LOCALBASE is /usr/local and members are usr/local/....
package porttree
