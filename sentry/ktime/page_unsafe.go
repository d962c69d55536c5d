package ktime

import (
	"fmt"
	"unsafe"
)

// overlay returns the data page laid over b, which must be at least PageSize
// bytes and 8-byte aligned (a page of the memory file, or of a Go
// allocation in tests).
//
// SAFETY: page holds only atomic integers (no Go pointers), so the garbage
// collector never looks inside it; b stays mapped as long as the Clock
// that uses the page, since the memory file is never unmapped and a Go
// slice keeps its array alive through the Clock's reference.
func overlay(b []byte) (*page, error) {
	if len(b) < PageSize || uintptr(unsafe.Pointer(&b[0]))%8 != 0 {
		return nil, fmt.Errorf("vvar page: %d bytes at %p, need %d aligned", len(b), &b[0], PageSize)
	}
	return (*page)(unsafe.Pointer(&b[0])), nil
}
