package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/eventfd"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_EVENTFD:  sup("eventfd", Eventfd),
		unix.SYS_EVENTFD2: sup("eventfd2", Eventfd2),
	})
}

// efdSemaphore is EFD_SEMAPHORE.
const efdSemaphore = 1

// Eventfd implements Linux syscall eventfd(2) (eventfd2 with no flags).
func Eventfd(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return newEventfd(t, args[0].Uint(), 0)
}

// Eventfd2 implements Linux syscall eventfd2(2).
func Eventfd2(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return newEventfd(t, args[0].Uint(), args[1].Int())
}

// newEventfd is do_eventfd().
func newEventfd(t *kernel.Task, initval uint32, flags int32) (uintptr, error) {
	if flags&^(unix.EFD_CLOEXEC|unix.EFD_NONBLOCK|efdSemaphore) != 0 {
		return 0, unix.EINVAL
	}
	f := eventfd.New(uint64(initval), flags&efdSemaphore != 0, unix.O_RDWR|uint32(flags)&unix.O_NONBLOCK)
	return installFD(t, f, flags&unix.EFD_CLOEXEC != 0)
}
