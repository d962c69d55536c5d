package devpts

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
	"pangolin/sentry/syserr"
)

func nonblock(fd *vfs.FileDescription) bool { return fd.StatusFlags()&unix.O_NONBLOCK != 0 }

// masterFile is an open /dev/ptmx.
type masterFile struct {
	vfs.FileDefaults
	t *Terminal // immutable
}

// Release implements vfs.FileImpl: closing the master hangs up the
// terminal and frees its number.
func (m *masterFile) Release() { m.t.Close() }

// Read implements vfs.FileImpl: the terminal's output.
func (m *masterFile) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	return vfs.BlockOn(ctx, m, waiter.ReadableEvents|waiter.EventHUp, nonblock(fd), time.Time{}, func() (int, error) {
		return m.t.readOutput(dst)
	})
}

// Write implements vfs.FileImpl: keystrokes into the line discipline.
func (m *masterFile) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64, _ bool) (int, int64, error) {
	done := 0
	for done < len(src) {
		n, err := vfs.BlockOn(ctx, m, waiter.WritableEvents, nonblock(fd), time.Time{}, func() (int, error) {
			return m.t.writeInput(src[done:])
		})
		done += n
		if err != nil {
			if done > 0 {
				return done, 0, nil
			}
			return 0, 0, err
		}
	}
	return done, 0, nil
}

// Readiness implements waiter.Waitable.
func (m *masterFile) Readiness(mask waiter.EventMask) waiter.EventMask {
	return m.t.masterReadiness(mask)
}

// EventRegister implements waiter.Waitable.
func (m *masterFile) EventRegister(e *waiter.Entry) error { m.t.masterQ.EventRegister(e); return nil }

// EventUnregister implements waiter.Waitable.
func (m *masterFile) EventUnregister(e *waiter.Entry) { m.t.masterQ.EventUnregister(e) }

// Ioctl implements vfs.FileImpl (pty_unix98_ioctl(), then the terminal's
// own, which on a master act on the replica's settings).
func (m *masterFile) Ioctl(ctx vfs.Context, fd *vfs.FileDescription, cmd uint32, arg uintptr) (uintptr, error) {
	t := m.t
	switch cmd {
	case unix.TIOCGPTN:
		return 0, putU32(ctx, arg, t.n)
	case unix.TIOCSPTLCK:
		v, err := getU32(ctx, arg)
		if err != nil {
			return 0, err
		}
		t.mu.Lock()
		t.locked = v != 0
		t.mu.Unlock()
		return 0, nil
	case unix.TIOCGPTLCK:
		t.mu.Lock()
		l := t.locked
		t.mu.Unlock()
		v := uint32(0)
		if l {
			v = 1
		}
		return 0, putU32(ctx, arg, v)
	case unix.TIOCPKT:
		v, err := getU32(ctx, arg)
		if err != nil {
			return 0, err
		}
		if v != 0 {
			return 0, unix.EINVAL // packet mode is not implemented
		}
		return 0, nil
	case unix.TIOCGPKT:
		return 0, putU32(ctx, arg, 0)
	case unix.TIOCSCTTY, unix.TIOCNOTTY:
		// The master is not a controlling terminal of anybody here.
		return 0, unix.ENOTTY
	case unix.TIOCINQ: // bytes the master can read
		t.mu.Lock()
		n := len(t.ld.out)
		t.mu.Unlock()
		return 0, putU32(ctx, arg, uint32(n))
	}
	return t.ioctl(ctx, cmd, arg)
}

// replicaFile is an open /dev/pts/N (or /dev/tty).
type replicaFile struct {
	vfs.FileDefaults
	t *Terminal // immutable
}

// Release implements vfs.FileImpl.
func (r *replicaFile) Release() {
	t := r.t
	t.mu.Lock()
	t.replicaOpens--
	t.mu.Unlock()
	t.notify()
}

// Read implements vfs.FileImpl.
func (r *replicaFile) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if err := r.t.jobCheck(ctx, unix.SIGTTIN); err != nil {
		return 0, err
	}
	if len(dst) == 0 {
		return 0, nil
	}
	t := r.t
	t.mu.Lock()
	canon := t.ld.lflag(unix.ICANON)
	wantMin, tenths := t.ld.termios.Cc[vmin], t.ld.termios.Cc[vtime]
	t.mu.Unlock()
	if canon || nonblock(fd) || (wantMin <= 1 && tenths == 0) {
		return vfs.BlockOn(ctx, r, waiter.ReadableEvents|waiter.EventHUp, nonblock(fd), time.Time{}, func() (int, error) {
			return t.readInput(dst)
		})
	}
	return r.readTimed(ctx, dst, int(wantMin), time.Duration(tenths)*100*time.Millisecond)
}

// readTimed is a blocking non-canonical read with VMIN and VTIME
// (termios(3), n_tty_read()): with VMIN > 0 it returns once VMIN bytes
// (or len(dst)) are read, and a VTIME > 0 is a timer between bytes that
// starts with the first one; with VMIN = 0 VTIME is the time to wait for
// one byte, and the read returns 0 when it runs out. A signal ends the
// wait with what was read, ERESTARTSYS if nothing was.
func (r *replicaFile) readTimed(ctx vfs.Context, dst []byte, wantMin int, timer time.Duration) (int, error) {
	t := r.t
	var deadline <-chan time.Time
	interByte := wantMin > 0 && timer > 0
	if wantMin == 0 {
		wantMin = 1
		tm := time.NewTimer(timer)
		defer tm.Stop()
		deadline = tm.C
	}
	e, ch := waiter.NewChannelEntry(waiter.ReadableEvents | waiter.EventHUp)
	r.EventRegister(&e)
	defer r.EventUnregister(&e)
	intr := ctx.InterruptChan()
	var gap *time.Timer
	defer func() {
		if gap != nil {
			gap.Stop()
		}
	}()
	n := 0
	for {
		t.mu.Lock()
		m, _ := t.ld.read(dst[n:])
		closed := t.masterClosed
		t.mu.Unlock()
		if m > 0 {
			n += m
			t.masterQ.Notify(waiter.WritableEvents)
			if interByte {
				if gap == nil {
					gap = time.NewTimer(timer)
				} else {
					gap.Reset(timer)
				}
				deadline = gap.C
			}
		}
		if n >= wantMin || n == len(dst) || closed {
			return n, nil
		}
		select {
		case <-ch:
		case <-intr:
			if ctx.Interrupted() {
				if n > 0 {
					return n, nil
				}
				return 0, syserr.ERestartSys
			}
		case <-deadline:
			return n, nil
		}
	}
}

// Write implements vfs.FileImpl.
func (r *replicaFile) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64, _ bool) (int, int64, error) {
	r.t.mu.Lock()
	tostop := r.t.ld.lflag(unix.TOSTOP)
	r.t.mu.Unlock()
	if tostop {
		if err := r.t.jobCheck(ctx, unix.SIGTTOU); err != nil {
			return 0, 0, err
		}
	}
	done := 0
	for done < len(src) {
		n, err := vfs.BlockOn(ctx, r, waiter.WritableEvents|waiter.EventHUp, nonblock(fd), time.Time{}, func() (int, error) {
			return r.t.writeOutput(src[done:])
		})
		done += n
		if err != nil {
			if done > 0 {
				return done, 0, nil
			}
			return 0, 0, err
		}
	}
	return done, 0, nil
}

// Readiness implements waiter.Waitable.
func (r *replicaFile) Readiness(mask waiter.EventMask) waiter.EventMask {
	return r.t.replicaReadiness(mask)
}

// EventRegister implements waiter.Waitable.
func (r *replicaFile) EventRegister(e *waiter.Entry) error { r.t.replicaQ.EventRegister(e); return nil }

// EventUnregister implements waiter.Waitable.
func (r *replicaFile) EventUnregister(e *waiter.Entry) { r.t.replicaQ.EventUnregister(e) }

// Ioctl implements vfs.FileImpl.
func (r *replicaFile) Ioctl(ctx vfs.Context, fd *vfs.FileDescription, cmd uint32, arg uintptr) (uintptr, error) {
	t := r.t
	switch cmd {
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TCFLSH, unix.TCXONC,
		unix.TCSBRK, unix.TCSBRKP, unix.TIOCSBRK, unix.TIOCCBRK, unix.TIOCSPGRP:
		// Requests that change the terminal (tty_check_change() in
		// set_termios(), tty_perform_flush(), n_tty_ioctl_helper(),
		// tty_ioctl() and tiocspgrp(), which answers ENOTTY for EIO).
		if err := t.jobCheck(ctx, unix.SIGTTOU); err != nil {
			if err == unix.EIO && cmd == unix.TIOCSPGRP {
				return 0, unix.ENOTTY
			}
			return 0, err
		}
	}
	switch cmd {
	case unix.TIOCGPTN, unix.TIOCSPTLCK, unix.TIOCGPTLCK, unix.TIOCPKT, unix.TIOCGPKT:
		return 0, unix.ENOTTY
	case unix.TIOCINQ: // bytes the replica can read
		t.mu.Lock()
		n := t.ld.readyLen
		if !t.ld.lflag(unix.ICANON) {
			n = t.ld.readyLen
		}
		t.mu.Unlock()
		return 0, putU32(ctx, arg, uint32(n))
	case unix.TIOCOUTQ:
		t.mu.Lock()
		n := len(t.ld.out)
		t.mu.Unlock()
		return 0, putU32(ctx, arg, uint32(n))
	case unix.TIOCSCTTY:
		return 0, t.setCttyIoctl(ctx, arg)
	case unix.TIOCNOTTY:
		return 0, t.noCtty(ctx)
	}
	return t.ioctl(ctx, cmd, arg)
}

// ioctl handles the commands both sides share (tty_ioctl(),
// tty_mode_ioctl(), n_tty_ioctl()).
func (t *Terminal) ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case unix.TCGETS:
		t.mu.Lock()
		b := t.ld.termios.marshal()
		t.mu.Unlock()
		return 0, ctx.CopyOutBytes(arg, b)
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF:
		b := make([]byte, termiosLen)
		if err := ctx.CopyInBytes(arg, b); err != nil {
			return 0, err
		}
		tm := unmarshalTermios(b)
		t.mu.Lock()
		if cmd == unix.TCSETSF {
			t.ld.flushInput()
		}
		t.ld.setTermios(tm)
		t.mu.Unlock()
		t.notify()
		return 0, nil
	case unix.TIOCGWINSZ:
		t.mu.Lock()
		ws := t.winsize
		t.mu.Unlock()
		b := make([]byte, 8)
		binary.LittleEndian.PutUint16(b[0:], ws.Row)
		binary.LittleEndian.PutUint16(b[2:], ws.Col)
		binary.LittleEndian.PutUint16(b[4:], ws.Xpixel)
		binary.LittleEndian.PutUint16(b[6:], ws.Ypixel)
		return 0, ctx.CopyOutBytes(arg, b)
	case unix.TIOCSWINSZ:
		b := make([]byte, 8)
		if err := ctx.CopyInBytes(arg, b); err != nil {
			return 0, err
		}
		t.setWinsize(unix.Winsize{Row: binary.LittleEndian.Uint16(b[0:]), Col: binary.LittleEndian.Uint16(b[2:]),
			Xpixel: binary.LittleEndian.Uint16(b[4:]), Ypixel: binary.LittleEndian.Uint16(b[6:])})
		return 0, nil
	case unix.TIOCGPGRP:
		jc, ok := ctx.(jobCtx)
		if !ok {
			return 0, unix.ENOTTY
		}
		_, _, sid := jc.JobIDs()
		t.mu.Lock()
		mine, pgrp := t.sid == sid && sid != 0, t.pgrp
		t.mu.Unlock()
		if !mine {
			return 0, unix.ENOTTY
		}
		return 0, putU32(ctx, arg, uint32(pgrp))
	case unix.TIOCSPGRP:
		return 0, t.setPgrp(ctx, arg)
	case unix.TIOCGSID:
		t.mu.Lock()
		sid := t.sid
		t.mu.Unlock()
		if sid == 0 {
			return 0, unix.ENOTTY
		}
		return 0, putU32(ctx, arg, uint32(sid))
	case unix.TCFLSH:
		switch arg {
		case unix.TCIFLUSH, unix.TCOFLUSH, unix.TCIOFLUSH:
		default:
			return 0, unix.EINVAL
		}
		t.mu.Lock()
		if arg != unix.TCOFLUSH {
			t.ld.flushInput()
		}
		if arg != unix.TCIFLUSH {
			t.ld.out = nil
		}
		t.mu.Unlock()
		t.notify()
		return 0, nil
	case unix.TCXONC:
		t.mu.Lock()
		switch arg {
		case unix.TCOOFF:
			t.ld.stopped = true
		case unix.TCOON:
			t.ld.stopped = false
		case unix.TCIOFF, unix.TCION:
		default:
			t.mu.Unlock()
			return 0, unix.EINVAL
		}
		t.mu.Unlock()
		t.notify()
		return 0, nil
	case unix.TCSBRK, unix.TCSBRKP, unix.TIOCSBRK, unix.TIOCCBRK:
		// Output is never held up by a line, so draining is immediate;
		// a break has no meaning on a pty.
		return 0, nil
	case unix.TIOCEXCL, unix.TIOCNXCL:
		return 0, nil
	case unix.TIOCGETD:
		return 0, putU32(ctx, arg, 0) // N_TTY
	case unix.TIOCSETD:
		v, err := getU32(ctx, arg)
		if err != nil {
			return 0, err
		}
		if v != 0 {
			return 0, unix.EINVAL // only N_TTY
		}
		return 0, nil
	case unix.TIOCSTI:
		return 0, unix.EPERM // legacy input injection: refused (CONFIG_LEGACY_TIOCSTI=n)
	}
	return 0, unix.ENOTTY
}

// jobCheck is __tty_check_change() and n_tty_read()'s job_control(): a
// caller whose controlling terminal this is, from a process group other
// than the foreground one, gets sig (SIGTTIN to read, SIGTTOU to write
// with TOSTOP or to change the terminal) unless it blocks or ignores it;
// the kernel decides (TTYBackgroundAccess). Anyone else goes ahead.
func (t *Terminal) jobCheck(ctx vfs.Context, sig unix.Signal) error {
	jc, ok := ctx.(jobCtx)
	if !ok {
		return nil
	}
	_, pgid, sid := jc.JobIDs()
	t.mu.Lock()
	background := sid != 0 && t.sid == sid && t.pgrp != 0 && t.pgrp != pgid
	t.mu.Unlock()
	if !background {
		return nil
	}
	return jc.TTYBackgroundAccess(int(sig))
}

// setCttyIoctl is TIOCSCTTY (tiocsctty()): the caller must lead its
// session and have no controlling terminal; a terminal controlling
// another session is taken only with arg 1 and CAP_SYS_ADMIN.
func (t *Terminal) setCttyIoctl(ctx vfs.Context, arg uintptr) error {
	jc, ok := ctx.(jobCtx)
	if !ok {
		return unix.EPERM
	}
	pid, pgid, sid := jc.JobIDs()
	if cur := t.fs.cttyOf(sid); cur == t {
		return nil
	} else if cur != nil || pid != sid {
		return unix.EPERM
	}
	t.mu.Lock()
	other := t.sid
	t.mu.Unlock()
	if other != 0 {
		if arg != 1 || !ctx.Credentials().HasCapability(21) {
			return unix.EPERM
		}
		t.fs.clearCtty(other, t)
	}
	t.SetControlling(sid, pgid)
	return nil
}

// noCtty is TIOCNOTTY: a session leader giving up its terminal hangs it
// up for its foreground group (disassociate_ctty()).
func (t *Terminal) noCtty(ctx vfs.Context) error {
	jc, ok := ctx.(jobCtx)
	if !ok {
		return unix.ENOTTY
	}
	pid, _, sid := jc.JobIDs()
	t.mu.Lock()
	if t.sid != sid || sid == 0 {
		t.mu.Unlock()
		return unix.ENOTTY
	}
	pgrp := t.pgrp
	if pid == sid {
		t.sid, t.pgrp = 0, 0
	}
	t.mu.Unlock()
	if pid == sid {
		t.fs.clearCtty(sid, t)
		if pgrp > 0 && t.fs.jc != nil {
			t.fs.jc.SignalProcessGroup(pgrp, int(unix.SIGHUP))
			t.fs.jc.SignalProcessGroup(pgrp, int(unix.SIGCONT))
		}
	}
	return nil
}

// setPgrp is TIOCSPGRP (tiocspgrp()): only on the caller's controlling
// terminal, to a process group of its session.
func (t *Terminal) setPgrp(ctx vfs.Context, arg uintptr) error {
	jc, ok := ctx.(jobCtx)
	if !ok {
		return unix.ENOTTY
	}
	v, err := getU32(ctx, arg)
	if err != nil {
		return err
	}
	pgrp := int32(v)
	_, _, sid := jc.JobIDs()
	t.mu.Lock()
	mine := t.sid == sid && sid != 0
	t.mu.Unlock()
	if !mine {
		return unix.ENOTTY
	}
	if pgrp < 0 {
		return unix.EINVAL
	}
	if t.fs.jc != nil {
		gs, ok := t.fs.jc.ProcessGroupSession(pgrp)
		if !ok {
			return unix.ESRCH
		}
		if gs != sid {
			return unix.EPERM
		}
	}
	t.mu.Lock()
	t.pgrp = pgrp
	t.mu.Unlock()
	return nil
}

func putU32(ctx vfs.Context, addr uintptr, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return ctx.CopyOutBytes(addr, b[:])
}

func getU32(ctx vfs.Context, addr uintptr) (uint32, error) {
	var b [4]byte
	if err := ctx.CopyInBytes(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}
