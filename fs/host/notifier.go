package host

import (
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"
)

// The notifier turns readiness changes of host FDs into waiter
// notifications: one host epoll instance holds every pollable host FD the
// sentry wraps, edge-triggered for all events, and one goroutine waits on
// it and notifies the FD's queue (the idea of gVisor's pkg/fdnotifier,
// with a fixed interest set instead of one updated per waiter: an edge
// with nobody waiting costs one empty Notify).
//
// Host syscalls this adds to the sentry (for its seccomp allowlist):
//   - epoll_create1(EPOLL_CLOEXEC): once, for the notifier's instance;
//   - epoll_ctl(EPOLL_CTL_ADD, EPOLL_CTL_DEL) on that instance: when a host
//     file is wrapped and released;
//   - epoll_pwait(epfd, events, n, -1, NULL): the notifier goroutine's
//     wait (the Go runtime's netpoller already uses epoll_pwait);
//   - ppoll(fds, 1, {0, 0}, NULL) on one host FD: Readiness, and the
//     readiness check before I/O on files without RWF_NOWAIT;
//   - preadv2/pwritev2(fd, iov, 1, -1, RWF_NOWAIT): non-blocking I/O on
//     pipes and sockets without changing the host file's O_NONBLOCK,
//     which the host file description shares with processes outside the
//     sandbox (the user's terminal);
//   - fcntl(F_GETPIPE_SZ, F_SETPIPE_SZ) on host pipes.
type notifier struct {
	// epfd is the epoll instance. Immutable.
	epfd int

	mu sync.Mutex
	// queues maps a registered host FD to its file's queue. Protected by
	// mu.
	queues map[int32]*waiter.Queue
}

var (
	theNotifier     *notifier
	theNotifierErr  error
	theNotifierOnce sync.Once
)

// getNotifier returns the notifier, starting it on first use.
func getNotifier() (*notifier, error) {
	theNotifierOnce.Do(func() {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			theNotifierErr = err
			return
		}
		theNotifier = &notifier{epfd: epfd, queues: make(map[int32]*waiter.Queue)}
		go theNotifier.run()
	})
	return theNotifier, theNotifierErr
}

// notifierEvents is the fixed interest set: everything poll can report,
// edge-triggered (EPOLLERR and EPOLLHUP are always reported).
const notifierEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLPRI | unix.EPOLLRDHUP | unix.EPOLLET

// add starts notifying q of fd's events. It fails with EPERM for files
// the host cannot poll (regular files, /dev/null: file_can_poll()).
func (n *notifier) add(fd int32, q *waiter.Queue) error {
	n.mu.Lock()
	n.queues[fd] = q
	n.mu.Unlock()
	ev := unix.EpollEvent{Events: notifierEvents, Fd: fd}
	if err := unix.EpollCtl(n.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev); err != nil {
		n.mu.Lock()
		delete(n.queues, fd)
		n.mu.Unlock()
		return err
	}
	return nil
}

// remove stops notifying for fd. Call it before closing fd.
func (n *notifier) remove(fd int32) {
	_ = unix.EpollCtl(n.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	n.mu.Lock()
	delete(n.queues, fd)
	n.mu.Unlock()
}

// run waits for events forever and notifies the queues outside the lock,
// so listeners may call back into Readiness.
func (n *notifier) run() {
	events := make([]unix.EpollEvent, 64)
	for {
		k, err := unix.EpollWait(n.epfd, events, -1)
		if err != nil {
			// EINTR: a signal for the Go runtime. Nothing else can
			// fail on a valid instance with a valid buffer.
			continue
		}
		for _, ev := range events[:k] {
			n.mu.Lock()
			q := n.queues[ev.Fd]
			n.mu.Unlock()
			if q != nil {
				q.Notify(waiter.EventMaskFromLinux(ev.Events) & waiter.AllEvents)
			}
		}
	}
}

// pollNow returns the events of mask (plus EventErr and EventHUp) that
// are ready on fd now (a zero-timeout poll).
func pollNow(fd int, mask waiter.EventMask) waiter.EventMask {
	fds := []unix.PollFd{{Fd: int32(fd), Events: int16(mask.ToLinux())}}
	n, err := retry(func() (int, error) { return unix.Poll(fds, 0) })
	if err != nil {
		// Report everything asked for: the I/O that follows gets the
		// real error.
		return mask
	}
	if n == 0 {
		return 0
	}
	return waiter.EventMaskFromLinux(uint32(uint16(fds[0].Revents))) & (mask | waiter.EventErr | waiter.EventHUp)
}
