package linux

import (
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// Setpgid implements Linux syscall setpgid(2).
func Setpgid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.Setpgid(args[0].Int(), args[1].Int())
}

// Getpgid implements Linux syscall getpgid(2).
func Getpgid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pg, err := t.Getpgid(args[0].Int())
	return uintptr(pg), err
}

// Getpgrp implements Linux syscall getpgrp(2).
func Getpgrp(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pg, err := t.Getpgid(0)
	return uintptr(pg), err
}

// Setsid implements Linux syscall setsid(2).
func Setsid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	sid, err := t.Setsid()
	return uintptr(sid), err
}

// Getsid implements Linux syscall getsid(2).
func Getsid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	sid, err := t.Getsid(args[0].Int())
	return uintptr(sid), err
}
