package main

import (
	"math"

	"golang.org/x/sys/unix"
)

// markInheritedFDsCloexec sets close-on-exec on every descriptor above
// stderr. Callers of the CLI (shells, test harnesses, shims) may leak
// descriptors without it, and the sandbox and gofer processes the CLI starts
// would inherit them; in the sentry such a descriptor would even be shared
// with the stub processes. The Go runtime opens its own descriptors
// close-on-exec already, so this changes only inherited ones. Helper
// processes get exactly the descriptors passed to them explicitly.
func markInheritedFDsCloexec() {
	// close_range(2) with CLOSE_RANGE_CLOEXEC (Linux 5.11+); on older
	// kernels nothing is marked and the leak remains.
	_ = unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
}
