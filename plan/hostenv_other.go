//go:build !unix

package plan

func HostMakeEnv() []string { return nil }
