package linux

import (
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_POLL:     partial("poll", Poll, "a restart after a signal with no handler uses the whole timeout again"),
		unix.SYS_PPOLL:    sup("ppoll", Ppoll),
		unix.SYS_SELECT:   sup("select", Select),
		unix.SYS_PSELECT6: sup("pselect6", Pselect6),
	})
}

// poll(2) bits beyond waiter's (include/uapi/asm-generic/poll.h).
const (
	pollNval   = 0x20
	pollRdBand = 0x80
	pollWrBand = 0x200
)

// The events select(2) counts for each set (fs/select.c). POLLNVAL, which
// an O_PATH descriptor gets, counts in every set (as Linux 6.18, the
// differential tests' oracle, reports it).
const (
	pollInSet  = waiter.EventIn | waiter.EventRdNorm | pollRdBand | waiter.EventHUp | waiter.EventErr | pollNval
	pollOutSet = waiter.EventOut | waiter.EventWrNorm | pollWrBand | waiter.EventErr | pollNval
	pollExSet  = waiter.EventPri | pollNval
)

// pollItem is one file a poll or select waits for.
type pollItem struct {
	// file is nil for an ignored entry (poll's negative fd) or one
	// whose result is fixed in ready (POLLNVAL, select's O_PATH files).
	file *vfs.FileDescription
	// mask is what the caller waits for.
	mask waiter.EventMask
	// ready is the last scan's result, within mask.
	ready waiter.EventMask
	entry waiter.Entry
}

// scanItems updates every item's ready events and returns how many items
// have some.
func scanItems(items []pollItem) int {
	n := 0
	for i := range items {
		it := &items[i]
		if it.file != nil {
			it.ready = it.file.Readiness(it.mask) & it.mask
		}
		if it.ready != 0 {
			n++
		}
	}
	return n
}

// maxWait bounds a finite timeout; longer ones wait forever (no timer
// beyond 30 years).
const maxWait = 30 * 365 * 24 * time.Hour

// pollWait is the loop of do_poll() and do_select(): scan; stop if
// something is ready, else with ERESTARTNOHAND if a signal is pending (even
// with a zero timeout), else when the timeout (negative: none) has passed;
// otherwise wait for a readiness change of any file, a signal or the
// timeout, and scan again. The files are registered only once a wait is
// needed.
func pollWait(t *kernel.Task, items []pollItem, timeout time.Duration) (int, error) {
	var (
		ch         chan struct{}
		timer      *time.Timer
		timerC     <-chan time.Time
		timedOut   = timeout == 0
		registered = false
	)
	defer func() {
		if registered {
			for i := range items {
				if items[i].file != nil {
					items[i].file.EventUnregister(&items[i].entry)
				}
			}
		}
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if n := scanItems(items); n > 0 {
			return n, nil
		}
		if t.Interrupted() {
			return 0, kernel.ERestartNoHand
		}
		if timedOut {
			return 0, nil
		}
		if !registered {
			ch = make(chan struct{}, 1)
			for i := range items {
				if it := &items[i]; it.file != nil {
					it.entry.Init(waiter.ChannelNotifier(ch), it.mask)
					// A file that cannot register is scanned on
					// every other wakeup and at the timeout.
					_ = it.file.EventRegister(&it.entry)
				}
			}
			registered = true
			if timeout > 0 && timeout < maxWait {
				timer = time.NewTimer(t.Kernel().Time.HostDuration(timeout))
				timerC = timer.C
			}
			// Scan again: a change before the registration would
			// otherwise be missed.
			continue
		}
		select {
		case <-ch:
		case <-t.InterruptChan():
		case <-timerC:
			timedOut = true
		}
	}
}

// putItems drops the file references of items.
func putItems(items []pollItem) {
	for i := range items {
		putFile(items[i].file)
	}
}

// pollTimeout is a poll or select timeout as the caller gave it, for
// computing the remaining time Linux writes back (poll_select_finish()).
type pollTimeout struct {
	// addr is where the timeout came from; 0 for none (wait forever).
	addr      uintptr
	sec, nsec int64
	start     time.Time
}

// duration is how long to wait: negative for no timeout.
func (pt *pollTimeout) duration() time.Duration {
	if pt.addr == 0 {
		return -1
	}
	if pt.sec >= int64(maxWait/time.Second) {
		return maxWait
	}
	return time.Duration(pt.sec)*time.Second + time.Duration(pt.nsec)
}

// remaining returns what is left of the timeout, at least zero.
func (pt *pollTimeout) remaining() (sec, nsec int64) {
	el := time.Since(pt.start)
	sec = pt.sec - int64(el/time.Second)
	nsec = pt.nsec - int64(el%time.Second)
	if nsec < 0 {
		nsec += 1e9
		sec--
	}
	if sec < 0 {
		return 0, 0
	}
	return sec, nsec
}

// writeBack stores the remaining time at the timeout's address as a
// timeval or a timespec, unless there was no timeout or it was zero
// (poll_select_finish()). If it cannot be stored, a restart is impossible:
// ERESTARTNOHAND becomes EINTR; other results stand.
func (pt *pollTimeout) writeBack(t *kernel.Task, timeval bool, err error) error {
	if pt.addr == 0 || (pt.sec == 0 && pt.nsec == 0) {
		return err
	}
	sec, nsec := pt.remaining()
	var b [16]byte
	le.PutUint64(b[0:], uint64(sec))
	if timeval {
		le.PutUint64(b[8:], uint64(nsec/1000))
	} else {
		le.PutUint64(b[8:], uint64(nsec))
	}
	if cerr := t.CopyOutBytes(pt.addr, b[:]); cerr != nil && err == kernel.ERestartNoHand {
		return unix.EINTR
	}
	return err
}

// copyInPollTimespec reads a timespec timeout (poll_select_set_timeout():
// EINVAL unless 0 <= tv_nsec < 1e9 and tv_sec >= 0).
func copyInPollTimespec(t *kernel.Task, addr uintptr) (pollTimeout, error) {
	pt := pollTimeout{addr: addr, start: time.Now()}
	if addr == 0 {
		return pt, nil
	}
	var b [16]byte
	if err := t.CopyInBytes(addr, b[:]); err != nil {
		return pt, err
	}
	pt.sec, pt.nsec = int64(le.Uint64(b[0:])), int64(le.Uint64(b[8:]))
	if pt.sec < 0 || pt.nsec < 0 || pt.nsec >= 1e9 {
		return pt, unix.EINVAL
	}
	return pt, nil
}

// copyInSigmask reads a temporary signal mask for ppoll and pselect6
// (set_user_sigmask()): EINVAL unless size is sizeof(sigset_t).
func copyInSigmask(t *kernel.Task, addr uintptr, size uint64) (uint64, error) {
	if size != sigsetSize {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if err := t.CopyInBytes(addr, b[:]); err != nil {
		return 0, err
	}
	return le.Uint64(b[:]), nil
}

// restoreSigMask ends a wait under a temporary signal mask
// (restore_saved_sigmask_unless()): if a signal interrupted it, old comes
// back only once that signal's handler frame is built (which saves old for
// sigreturn) or the syscall returns without one, so the signal is
// delivered under the temporary mask; otherwise at once.
func restoreSigMask(t *kernel.Task, old uint64, err error) {
	if err == kernel.ERestartNoHand {
		t.SetSavedSigMask(old)
	} else {
		t.SetSigMask(old)
	}
}

// Poll implements Linux syscall poll(2). Interrupted by a signal, it
// fails with EINTR after a handler ran and restarts otherwise.
func Poll(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	timeout := time.Duration(-1)
	if ms := args[2].Int(); ms >= 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	return doPoll(t, args[0].Pointer(), args[1].Uint(), timeout)
}

// Ppoll implements Linux syscall ppoll(2): poll with a timespec timeout,
// written back with the time left, and a signal mask applied atomically
// for the wait.
func Ppoll(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pt, err := copyInPollTimespec(t, args[2].Pointer())
	if err != nil {
		return 0, err
	}
	maskAddr := args[3].Pointer()
	var old uint64
	if maskAddr != 0 {
		mask, err := copyInSigmask(t, maskAddr, uint64(args[4].SizeT()))
		if err != nil {
			return 0, err
		}
		old = t.SigMask()
		t.SetSigMask(mask)
	}
	n, err := doPoll(t, args[0].Pointer(), args[1].Uint(), pt.duration())
	if maskAddr != 0 {
		restoreSigMask(t, old, err)
	}
	return n, pt.writeBack(t, false, err)
}

// pollFDSize is sizeof(struct pollfd): int fd, short events, short
// revents.
const pollFDSize = 8

// doPoll is do_sys_poll(): at most RLIMIT_NOFILE entries (EINVAL); a
// negative fd is ignored, an fd that is not open (or O_PATH) reports
// POLLNVAL; POLLERR and POLLHUP are always reported. Every revents is
// written back, even when interrupted.
func doPoll(t *kernel.Task, addr uintptr, nfds uint32, timeout time.Duration) (uintptr, error) {
	if uint64(nfds) > t.Limits().Get(unix.RLIMIT_NOFILE).Cur {
		return 0, unix.EINVAL
	}
	raw := make([]byte, uint64(nfds)*pollFDSize)
	if len(raw) > 0 {
		if err := t.CopyInBytes(addr, raw); err != nil {
			return 0, err
		}
	}
	items := make([]pollItem, nfds)
	defer putItems(items)
	for i := range items {
		e := raw[i*pollFDSize:]
		fd := int32(le.Uint32(e[0:]))
		if fd < 0 {
			continue
		}
		f, err := getFile(t, fd)
		if err != nil {
			items[i].ready = pollNval
			continue
		}
		if f.IsPath() {
			f.DecRef()
			items[i].ready = pollNval
			continue
		}
		items[i].file = f
		items[i].mask = waiter.EventMask(le.Uint16(e[4:])) | waiter.EventErr | waiter.EventHUp
	}
	n, err := pollWait(t, items, timeout)
	var rb [2]byte
	for i := range items {
		le.PutUint16(rb[:], uint16(items[i].ready))
		if cerr := t.CopyOutBytes(addr+uintptr(i*pollFDSize+6), rb[:]); cerr != nil {
			return 0, cerr
		}
	}
	if err != nil {
		return 0, err
	}
	return uintptr(n), nil
}

// Select implements Linux syscall select(2). The timeout, if any, is
// updated with the time left, as Linux does.
func Select(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pt := pollTimeout{addr: args[4].Pointer(), start: time.Now()}
	if pt.addr != 0 {
		var b [16]byte
		if err := t.CopyInBytes(pt.addr, b[:]); err != nil {
			return 0, err
		}
		// Microseconds beyond a second carry into the seconds
		// (kern_select()); negative values are invalid.
		sec, usec := int64(le.Uint64(b[0:])), int64(le.Uint64(b[8:]))
		pt.sec, pt.nsec = sec+usec/1e6, (usec%1e6)*1000
		if pt.sec < 0 || pt.nsec < 0 {
			return 0, unix.EINVAL
		}
	}
	n, err := doSelect(t, args[0].Int(), args[1].Pointer(), args[2].Pointer(), args[3].Pointer(), pt.duration())
	return n, pt.writeBack(t, true, err)
}

// Pselect6 implements Linux syscall pselect6(2): select with a timespec
// timeout (written back, as for select) and a signal mask, passed as a
// pointer to {const sigset_t *ss; size_t ss_len}, applied atomically for
// the wait.
func Pselect6(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	var ssAddr uintptr
	var ssLen uint64
	if pack := args[5].Pointer(); pack != 0 {
		var b [16]byte
		if err := t.CopyInBytes(pack, b[:]); err != nil {
			return 0, err
		}
		ssAddr, ssLen = uintptr(le.Uint64(b[0:])), le.Uint64(b[8:])
	}
	pt, err := copyInPollTimespec(t, args[4].Pointer())
	if err != nil {
		return 0, err
	}
	var old uint64
	if ssAddr != 0 {
		mask, err := copyInSigmask(t, ssAddr, ssLen)
		if err != nil {
			return 0, err
		}
		old = t.SigMask()
		t.SetSigMask(mask)
	}
	n, err := doSelect(t, args[0].Int(), args[1].Pointer(), args[2].Pointer(), args[3].Pointer(), pt.duration())
	if ssAddr != 0 {
		restoreSigMask(t, old, err)
	}
	return n, pt.writeBack(t, false, err)
}

// doSelect is core_sys_select(): nfds < 0 is EINVAL; descriptors from
// the size of the descriptor table up are not looked at; a set bit for a
// descriptor that is not open is EBADF. The sets are replaced by the
// ready ones (bits from nfds to the end of its 64-bit word cleared, the
// words beyond the table's size left alone) unless the wait was
// interrupted; the result counts set bits.
func doSelect(t *kernel.Task, nfds int32, inAddr, outAddr, exAddr uintptr, timeout time.Duration) (uintptr, error) {
	if nfds < 0 {
		return 0, unix.EINVAL
	}
	n := min(int(nfds), t.FDTable().MaxFDs())
	nbytes := (n + 63) / 64 * 8
	addrs := [3]uintptr{inAddr, outAddr, exAddr}
	var sets [3][]byte
	for i, a := range addrs {
		sets[i] = make([]byte, nbytes)
		if a != 0 && nbytes > 0 {
			if err := t.CopyInBytes(a, sets[i]); err != nil {
				return 0, err
			}
		}
	}
	isSet := func(s []byte, fd int) bool { return s[fd/8]&(1<<(fd%8)) != 0 }
	var items []pollItem
	var fds []int
	defer func() { putItems(items) }()
	for fd := 0; fd < n; fd++ {
		var mask waiter.EventMask
		if isSet(sets[0], fd) {
			mask |= pollInSet
		}
		if isSet(sets[1], fd) {
			mask |= pollOutSet
		}
		if isSet(sets[2], fd) {
			mask |= pollExSet
		}
		if mask == 0 {
			continue
		}
		f, err := getFile(t, int32(fd))
		if err != nil {
			return 0, unix.EBADF
		}
		it := pollItem{file: f, mask: mask}
		if f.IsPath() {
			// Open, so no EBADF, but not pollable: POLLNVAL.
			f.DecRef()
			it.file, it.ready = nil, pollNval
		}
		items = append(items, it)
		fds = append(fds, fd)
	}
	ready, err := pollWait(t, items, timeout)
	if err != nil {
		return 0, err
	}
	var res [3][]byte
	for i := range res {
		res[i] = make([]byte, nbytes)
	}
	count := 0
	mark := func(s []byte, fd int) {
		s[fd/8] |= 1 << (fd % 8)
		count++
	}
	if ready > 0 {
		for i, it := range items {
			fd := fds[i]
			if it.ready&pollInSet != 0 && isSet(sets[0], fd) {
				mark(res[0], fd)
			}
			if it.ready&pollOutSet != 0 && isSet(sets[1], fd) {
				mark(res[1], fd)
			}
			if it.ready&pollExSet != 0 && isSet(sets[2], fd) {
				mark(res[2], fd)
			}
		}
	}
	for i, a := range addrs {
		if a != 0 && nbytes > 0 {
			if err := t.CopyOutBytes(a, res[i]); err != nil {
				return 0, unix.EFAULT
			}
		}
	}
	return uintptr(count), nil
}
