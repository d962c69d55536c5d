package systrap

import "unsafe"

// stubCode returns the bytes of the stub, [stubBegin, stubEnd) as linked.
//
// SAFETY: the range is the text of this package's assembly functions,
// which is mapped read-only for the life of the process; it is only read.
func stubCode(begin, end uintptr) []byte {
	return unsafe.Slice(*(**byte)(unsafe.Pointer(&begin)), end-begin)
}
