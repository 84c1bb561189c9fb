package record

import (
	"errors"
	"syscall"
	"testing"
)

func TestGuard(t *testing.T) {
	if err := Guard(func() error { return nil }); err != nil {
		t.Errorf("Guard(ok) = %v", err)
	}
	plain := errors.New("plain")
	if err := Guard(func() error { return plain }); err != plain {
		t.Errorf("Guard(error) = %v", err)
	}
	if err := Guard(func() error { panic("page 7: invalid type") }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Guard(panic) = %v", err)
	}
	// A fault (as reading past a damaged bbolt map gives) is an error too.
	m, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Munmap(m)
	err = Guard(func() error {
		sink = m[100] // unmapped: SIGSEGV
		return nil
	})
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("Guard(fault) = %v", err)
	}
}

// sink keeps the faulting read from being optimised away.
var sink byte
