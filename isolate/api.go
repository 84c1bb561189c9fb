package isolate

// The platform files (linux.go, bsd.go) provide:
//
//	// Prepare creates slot n under BuildBase/SL<NN> following l.
//	func Prepare(ctx context.Context, l Layout, n int) (Slot, error)
//
//	// Cleanup removes whatever a crashed run left under buildBase (slot
//	// mounts and directories) and returns what it removed. It never
//	// removes through a live mount.
//	func Cleanup(buildBase string) ([]string, error)
