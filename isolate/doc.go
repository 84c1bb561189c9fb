// Package isolate provides build slots: chroot-isolated environments in
// which dsynth runs port builds. A slot sees the base system read-only, the
// ports tree read-only, fresh tmpfs work areas and nothing else of the host.
// The package knows nothing of ports.
//
// # Model
//
// The slot layout is data: Entries(Layout) computes, once and without build
// tags, the ordered list of mounts, directories, symlinks and files of a
// slot (tmpfs root, read-only system folders with merged-/usr symlinks
// recreated, a minimal secret-free /etc, /dev, /proc, /tmp, /var/tmp,
// /xports, /distfiles, /packages, /options, /construction, /usr/local and
// the profile's extra mounts). Only the mount and spawn mechanics differ
// between the systems.
//
// Prepare starts a slot helper: the running binary re-executed with a
// marker (MaybeRunHelper must be called first thing in main and in
// TestMain). The helper applies the entries, then runs commands on request
// over a SOCK_SEQPACKET socket pair (JSON messages, stdout/stderr
// descriptors passed with SCM_RIGHTS so output streams straight from the
// command to the caller's writer).
//
//   - Linux: the helper lives in new mount (private propagation), PID, UTS,
//     IPC and network namespaces. Its mounts never reach the host mount
//     table and vanish with it, even after SIGKILL. Each command is chrooted
//     and PID 1 of a PID namespace of its own: killing it kills its whole
//     tree, and nothing it started outlives it. Commands see only loopback
//     (brought up) unless Cmd.Network is set; then they are forked from a
//     thread that joined the host's network namespace. Niceness is applied
//     on that thread too (it is per thread on Linux), so the command starts
//     with it, and so are the capabilities: commands keep only what
//     staging needs (chown, fowner, fsetid, setuid, setgid, dac_override,
//     net_bind_service), with no_new_privs. Once the slot is built the
//     helper pivot_roots into it, so no process a build can see has a
//     root or working directory on the host; its descriptors are
//     close-on-exec. docs/isolate.md lists what remains and why.
//   - FreeBSD/DragonFly: no namespaces. The helper mounts nullfs, tmpfs,
//     devfs and procfs below the slot directory (nmount(2) on FreeBSD; the
//     base system's mount_* tools on DragonFly, whose mount argument
//     structures x/sys does not expose), is the procctl reaper of the slot's
//     processes (FreeBSD: PROC_REAP_KILL kills a command's subtree;
//     DragonFly: the process group, then each child the reaper has, by
//     PROC_REAP_STATUS pid_head), and unmounts everything deepest first
//     when it exits, also when dsynth died (the socket closes). Commands
//     run in jails; the helper stays outside, so that it can unmount.
//     FreeBSD (jail_freebsd.go): two persistent jail_set(2) jails on the
//     slot root, named after the slot, with the slot's host name, no
//     address (ip4/ip6=disable) or, for Cmd.Network, the host's
//     (ip4/ip6=inherit), every allow.* off but suser, enforce_statfs=2,
//     children.max=0, devfs ruleset 4 on /dev; each command enters one
//     through jexec(8) (Go cannot jail_attach between fork and exec). At
//     the end the jails are removed (jail_remove kills what is left) and
//     then the slot unmounted; Teardown and Cleanup remove, by name, the
//     jails of a helper that was killed. DragonFly (jail_dragonfly.go): a
//     jail(8) per command, whose jail(2) takes an address list: empty
//     (no address) without the network, the host's addresses with it.
//     Compiled and vetted for freebsd and dragonfly, never run on either.
//
// # Safety
//
// Nothing is ever removed through a live mount: before removing a slot
// directory the mount table (/proc/self/mountinfo, getfsstat) is read,
// mounts below it are unmounted deepest first, and removal stops with an
// error if one remains; while removing, a directory on another device is
// refused. Bind sources (ports, packages, distfiles, options) are never
// inside a slot (Entries rejects that), so Teardown and Cleanup cannot
// reach them. Cleanup only considers directories named SL<NN> in the build
// base, kills a leftover helper named by its pid file (after checking its
// arguments), unmounts and removes. Package lock provides the build-base
// lock that keeps Cleanup away from a base in use.
package isolate
