// Package fsutil holds the file reading and writing rules dsynth applies
// everywhere: input files must be regular files of bounded size (a device
// or FIFO given by mistake must not block or fill memory), and files it
// rewrites are replaced atomically (a failed write leaves the old file).
package fsutil
