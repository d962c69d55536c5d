package proto

import (
	"errors"

	"golang.org/x/sys/unix"
)

// ErrnoOf converts an error to its wire value. Errors that are not errno
// values (which the server should never produce) travel as EIO, so the
// client always sees a unix.Errno.
func ErrnoOf(err error) uint32 {
	if err == nil {
		return 0
	}
	var e unix.Errno
	if errors.As(err, &e) && e > 0 && e <= MaxErrno {
		return uint32(e)
	}
	return uint32(unix.EIO)
}

// ErrorOf converts a wire errno to an error: nil for zero, a unix.Errno for
// valid values, and EIO for values out of range (a malformed reply).
func ErrorOf(errno uint32) error {
	switch {
	case errno == 0:
		return nil
	case errno <= MaxErrno:
		return unix.Errno(errno)
	default:
		return unix.EIO
	}
}
