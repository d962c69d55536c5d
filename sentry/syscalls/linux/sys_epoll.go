package linux

import (
	"encoding/binary"
	"math"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/epoll"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_EPOLL_CREATE:  sup("epoll_create", EpollCreate),
		unix.SYS_EPOLL_CREATE1: sup("epoll_create1", EpollCreate1),
		unix.SYS_EPOLL_CTL:     partial("epoll_ctl", EpollCtl, "no limit on wakeup paths (reverse_path_check); EPOLLEXCLUSIVE groups are per open file description"),
		unix.SYS_EPOLL_WAIT:    sup("epoll_wait", EpollWait),
		unix.SYS_EPOLL_PWAIT:   sup("epoll_pwait", EpollPwait),
		unix.SYS_EPOLL_PWAIT2:  sup("epoll_pwait2", EpollPwait2),
	})
}

const (
	// epollEventSize is sizeof(struct epoll_event) on x86-64 (packed).
	epollEventSize = 12
	// epMaxEvents is EP_MAX_EVENTS.
	epMaxEvents = math.MaxInt32 / epollEventSize
	// capBlockSuspend is CAP_BLOCK_SUSPEND, needed for EPOLLWAKEUP.
	capBlockSuspend = 36
)

// EpollCreate implements Linux syscall epoll_create(2).
func EpollCreate(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[0].Int() <= 0 {
		return 0, unix.EINVAL
	}
	return installFD(t, epoll.New(unix.O_RDWR), false)
}

// EpollCreate1 implements Linux syscall epoll_create1(2).
func EpollCreate1(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[0].Int()
	if flags&^unix.EPOLL_CLOEXEC != 0 {
		return 0, unix.EINVAL
	}
	return installFD(t, epoll.New(unix.O_RDWR), flags&unix.EPOLL_CLOEXEC != 0)
}

// EpollCtl implements Linux syscall epoll_ctl(2) (do_epoll_ctl()).
func EpollCtl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	epfd, op, fd, evAddr := args[0].Int(), int(args[1].Int()), args[2].Int(), args[3].Pointer()
	var ev epoll.Event
	if op != epoll.CtlDel {
		var b [epollEventSize]byte
		if err := t.CopyInBytes(evAddr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		ev.Events = binary.LittleEndian.Uint32(b[0:])
		ev.Data = binary.LittleEndian.Uint64(b[4:])
	}
	ef, err := getFile(t, epfd)
	if err != nil {
		return 0, err
	}
	defer ef.DecRef()
	tf, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer tf.DecRef()
	if !tf.Pollable() {
		return 0, unix.EPERM
	}
	if op != epoll.CtlDel && ev.Events&epoll.EPOLLWAKEUP != 0 && !t.Credentials().HasCapability(capBlockSuspend) {
		ev.Events &^= epoll.EPOLLWAKEUP
	}
	ep, ok := ef.Impl().(*epoll.EventPoll)
	if !ok || ef == tf {
		return 0, unix.EINVAL
	}
	return 0, ep.Ctl(op, tf, fd, ev)
}

// EpollWait implements Linux syscall epoll_wait(2).
func EpollWait(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return epollWait(t, args[0].Int(), args[1].Pointer(), args[2].Int(), msTimeout(args[3].Int()))
}

// msTimeout converts a poll-style millisecond timeout; negative waits
// forever (ep_timeout_to_timespec()).
func msTimeout(ms int32) time.Duration {
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}

// EpollPwait implements Linux syscall epoll_pwait(2).
func EpollPwait(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return epollPwait(t, args, msTimeout(args[3].Int()))
}

// EpollPwait2 implements Linux syscall epoll_pwait2(2): the timeout is a
// struct timespec (NULL waits forever).
func EpollPwait2(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	timeout := time.Duration(-1)
	if addr := args[3].Pointer(); addr != 0 {
		var b [16]byte
		if err := t.CopyInBytes(addr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		sec := int64(binary.LittleEndian.Uint64(b[:]))
		nsec := int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= nsecPerSec {
			return 0, unix.EINVAL
		}
		if sec >= math.MaxInt64/nsecPerSec {
			// Longer than time.Duration holds: forever, in practice.
			timeout = -1
		} else {
			timeout = time.Duration(sec*nsecPerSec + nsec)
		}
	}
	return epollPwait(t, args, timeout)
}

// epollPwait runs an epoll wait under the signal mask args[4] if it is
// not NULL (do_epoll_pwait() with set_user_sigmask()).
func epollPwait(t *kernel.Task, args arch.SyscallArguments, timeout time.Duration) (uintptr, error) {
	maskAddr := args[4].Pointer()
	if maskAddr == 0 {
		return epollWait(t, args[0].Int(), args[1].Pointer(), args[2].Int(), timeout)
	}
	if args[5].SizeT() != sigsetSize {
		return 0, unix.EINVAL
	}
	var b [sigsetSize]byte
	if err := t.CopyInBytes(maskAddr, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	old := t.SigMask()
	t.SetSigMask(binary.LittleEndian.Uint64(b[:]))
	n, err := epollWait(t, args[0].Int(), args[1].Pointer(), args[2].Int(), timeout)
	if err == unix.EINTR {
		// Deliver the signal under the temporary mask; the handler's
		// sigreturn (or the return without one) restores the old.
		t.SetSavedSigMask(old)
	} else {
		t.SetSigMask(old)
	}
	return n, err
}

// epollWait is do_epoll_wait().
func epollWait(t *kernel.Task, epfd int32, events uintptr, maxevents int32, timeout time.Duration) (uintptr, error) {
	f, err := getFile(t, epfd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if maxevents <= 0 || maxevents > epMaxEvents {
		return 0, unix.EINVAL
	}
	if err := checkUserRange(events, uint64(maxevents)*epollEventSize); err != nil {
		return 0, err
	}
	ep, ok := f.Impl().(*epoll.EventPoll)
	if !ok {
		return 0, unix.EINVAL
	}
	var b [epollEventSize]byte
	if timeout > 0 {
		timeout = t.Kernel().Time.HostDuration(timeout)
	}
	n, err := ep.Wait(t, int(maxevents), timeout, func(i int, ev epoll.Event) bool {
		binary.LittleEndian.PutUint32(b[0:], ev.Events)
		binary.LittleEndian.PutUint64(b[4:], ev.Data)
		return t.CopyOutBytes(events+uintptr(i)*epollEventSize, b[:]) == nil
	})
	return uintptr(n), err
}
