package main

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Process names (comm, at most 15 bytes) of the sandbox's host processes, so
// that ps, top, perf and the kernel's seccomp audit records tell them apart:
// all of them are this one binary.
const (
	sentryComm = "pangolin-sentry"
	goferComm  = "pangolin-gofer"
)

// init pins the main goroutine to the main thread until main has named it
// (an init function's LockOSThread makes main.main start there).
func init() { runtime.LockOSThread() }

// setProcName sets the comm of the main thread, which ps shows for the
// process; threads created later inherit it from their creator. Called by
// main, on the main thread, which it then releases.
func setProcName(name string) {
	b := append([]byte(name), 0)
	// SAFETY: b is a NUL-terminated Go slice that outlives the call;
	// prctl(PR_SET_NAME) copies at most 16 bytes from it.
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0)
}
