package main

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// runtimeBeforeExec and runtimeAfterExec bracket exec in syscall.Exec: they
// take the runtime's execLock, so that no OS thread is being created while
// the process image is replaced (golang.org/issue/19546).
//
//go:linkname runtimeBeforeExec syscall.runtime_BeforeExec
func runtimeBeforeExec()

//go:linkname runtimeAfterExec syscall.runtime_AfterExec
func runtimeAfterExec()

// execFD replaces the process image with the executable open on fd
// (execveat(2) with AT_EMPTY_PATH), as syscall.Exec does for a path. The
// confined processes need it: after pivot_root into an empty directory the
// binary has no path. It returns only on failure.
func execFD(fd int, argv, envv []string) error {
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envvp, err := syscall.SlicePtrFromStrings(envv)
	if err != nil {
		return err
	}
	empty, err := syscall.BytePtrFromString("")
	if err != nil {
		return err
	}
	runtimeBeforeExec()
	// SAFETY: the pointers are to NUL-terminated strings and
	// NULL-terminated arrays built just above, kept alive by the argument
	// list of this assembly call; execveat only reads them.
	_, _, e := unix.RawSyscall6(unix.SYS_EXECVEAT, uintptr(fd),
		uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argvp[0])),
		uintptr(unsafe.Pointer(&envvp[0])),
		unix.AT_EMPTY_PATH, 0)
	runtimeAfterExec()
	return e
}
