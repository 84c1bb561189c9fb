// Package lock is the build-base lock: one dsynth process at a time works
// in a build base. The lock is <build_base>/dsynth.lock, an flock(2)-ed
// file holding the holder's PID. The kernel drops the flock when the
// holder dies, so a crashed holder never blocks the next run; its PID left
// in the file tells the next holder that it is taking over (a warning).
// Release empties the file but keeps it (removing it would let two
// processes lock two different inodes).
package lock
