//go:build !freebsd && !dragonfly

package plan

func hostStandIns() map[string]string { return nil }
