// Package publish builds a package repository catalog with the tree's own
// `pkg repo`, in a slot, over a copy (hard links) of packages_dir/All, and
// publishes it atomically: packages_dir/.latest is a symlink switched in
// one rename to the new packages_dir/.real_<time> folder; the previous
// one is kept until the next switch. Signing (rsa:KEY or signing_command)
// is pkg's own. Each build is recorded as a record.Operation.
package publish
