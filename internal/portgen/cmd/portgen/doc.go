// Command portgen writes a synthetic ports tree (see package portgen):
//
//	go run ./internal/portgen/cmd/portgen -n 2000 -seed 1 -out DIR
package main
