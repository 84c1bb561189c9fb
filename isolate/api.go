package isolate

// slot_unix.go and remove.go provide (with the platform parts in
// linux.go and bsd.go):
//
//	// Prepare creates slot n under BuildBase/SL<NN> following l.
//	func Prepare(ctx context.Context, l Layout, n int) (Slot, error)
//
//	// Cleanup removes whatever a crashed run left under buildBase (slot
//	// mounts and directories) and returns what it removed. It never
//	// removes through a live mount.
//	func Cleanup(buildBase string) ([]string, error)
