// Package isolate provides build slots: chroot-isolated environments in
// which dsynth runs port builds. A slot sees the base system read-only, the
// ports tree read-only, fresh tmpfs work areas and nothing else of the host.
//
// The slot layout is data (Layout); only the mount and spawn mechanics differ
// between Linux (mount/PID/UTS/IPC/network namespaces, bind mounts, tmpfs,
// chroot) and FreeBSD/DragonFly (nullfs, tmpfs, devfs, procfs, chroot,
// procctl reaper). The package knows nothing of ports.
package isolate
