package devpts

import (
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
)

// Terminal is one pseudo-terminal pair: /dev/pts/N and its master.
type Terminal struct {
	fs *Filesystem
	// n is the pty number (TIOCGPTN). Immutable.
	n uint32

	mu sync.Mutex
	// ld is the line discipline. Protected by mu.
	ld ldisc
	// winsize is the window size (TIOCGWINSZ). Protected by mu.
	winsize unix.Winsize
	// locked is the replica's lock (TIOCSPTLCK); opening a locked
	// replica fails with EIO. Protected by mu.
	locked bool
	// masterClosed is set when the master is released: the replica is
	// hung up. Protected by mu.
	masterClosed bool
	// replicaOpens counts open replica files; replicaSeen is set after
	// the first open, so a master read sees EIO once every replica file
	// is closed. Protected by mu.
	replicaOpens int
	replicaSeen  bool
	// sid is the session the terminal controls, pgrp its foreground
	// process group; 0 when it is nobody's controlling terminal.
	// Protected by mu.
	sid, pgrp int32

	// masterQ and replicaQ wake readers and writers of each side.
	masterQ, replicaQ waiter.Queue
}

// Number returns the pty number N of /dev/pts/N.
func (t *Terminal) Number() uint32 { return t.n }

// notify wakes both sides after a state change (outside mu).
func (t *Terminal) notify() {
	t.masterQ.Notify(waiter.ReadableEvents | waiter.WritableEvents | waiter.EventHUp)
	t.replicaQ.Notify(waiter.ReadableEvents | waiter.WritableEvents | waiter.EventHUp)
}

// signalForeground sends sig to the foreground process group.
func (t *Terminal) signalForeground(sig unix.Signal, pgrp int32) {
	if pgrp > 0 && t.fs.jc != nil {
		t.fs.jc.SignalProcessGroup(pgrp, int(sig))
	}
}

// writeInput feeds keystrokes to the line discipline and returns how many
// it took (0 with EAGAIN when the input is full).
func (t *Terminal) writeInput(b []byte) (int, error) {
	var sigs []unix.Signal
	t.mu.Lock()
	if t.masterClosed {
		t.mu.Unlock()
		return 0, unix.EIO
	}
	n := t.ld.input(b, func(s unix.Signal) { sigs = append(sigs, s) })
	pgrp := t.pgrp
	t.mu.Unlock()
	t.notify()
	for _, s := range sigs {
		t.signalForeground(s, pgrp)
	}
	if n == 0 && len(b) > 0 {
		return 0, unix.EAGAIN
	}
	return n, nil
}

// readOutput takes output for the master. With every replica file closed
// (after one was opened) and no output left it fails with EIO, as a pty
// master does once its other side is gone.
func (t *Terminal) readOutput(dst []byte) (int, error) {
	t.mu.Lock()
	if len(t.ld.out) == 0 || t.ld.stopped {
		hung := t.replicaSeen && t.replicaOpens == 0
		t.mu.Unlock()
		if hung {
			return 0, unix.EIO
		}
		return 0, unix.EAGAIN
	}
	n := copy(dst, t.ld.out)
	t.ld.out = t.ld.out[n:]
	if len(t.ld.out) == 0 {
		t.ld.out = nil
	}
	t.mu.Unlock()
	t.replicaQ.Notify(waiter.WritableEvents)
	return n, nil
}

// readInput is a replica read: EAGAIN while nothing is readable, 0 at end
// of file (VEOF on an empty line) or after hangup.
func (t *Terminal) readInput(dst []byte) (int, error) {
	t.mu.Lock()
	if !t.ld.readable() {
		closed := t.masterClosed
		vmin := t.ld.termios.Cc[vmin]
		vtime := t.ld.termios.Cc[vtime]
		canon := t.ld.lflag(unix.ICANON)
		t.mu.Unlock()
		if closed {
			return 0, nil
		}
		if !canon && vmin == 0 && vtime == 0 {
			return 0, nil // a polling read (VMIN = VTIME = 0)
		}
		return 0, unix.EAGAIN
	}
	n, _ := t.ld.read(dst)
	t.mu.Unlock()
	t.masterQ.Notify(waiter.WritableEvents)
	return n, nil
}

// writeOutput is a replica write: output processing, then the master's
// queue (EAGAIN when it is full or stopped by ^S).
func (t *Terminal) writeOutput(src []byte) (int, error) {
	t.mu.Lock()
	if t.masterClosed {
		t.mu.Unlock()
		return 0, unix.EIO
	}
	if len(t.ld.out) >= maxOutput || t.ld.stopped {
		t.mu.Unlock()
		return 0, unix.EAGAIN
	}
	n := min(len(src), maxOutput-len(t.ld.out))
	t.ld.output(src[:n])
	t.mu.Unlock()
	t.masterQ.Notify(waiter.ReadableEvents)
	return n, nil
}

// masterReadiness is poll on the master.
func (t *Terminal) masterReadiness(mask waiter.EventMask) waiter.EventMask {
	t.mu.Lock()
	defer t.mu.Unlock()
	var r waiter.EventMask
	if len(t.ld.out) > 0 && !t.ld.stopped {
		r |= waiter.ReadableEvents
	}
	if t.ld.readyLen+len(t.ld.line) < maxInput {
		r |= waiter.WritableEvents
	}
	if t.replicaSeen && t.replicaOpens == 0 {
		r |= waiter.EventHUp | waiter.ReadableEvents
	}
	return r & (mask | waiter.EventHUp | waiter.EventErr)
}

// replicaReadiness is poll on the replica.
func (t *Terminal) replicaReadiness(mask waiter.EventMask) waiter.EventMask {
	t.mu.Lock()
	defer t.mu.Unlock()
	var r waiter.EventMask
	// Non-canonical with VMIN > 0 and no VTIME, poll waits for VMIN bytes
	// as a read would (input_available_p()).
	if t.ld.readable() {
		if t.ld.lflag(unix.ICANON) || t.ld.termios.Cc[vtime] != 0 || t.ld.readyLen >= int(t.ld.termios.Cc[vmin]) {
			r |= waiter.ReadableEvents
		}
	}
	if len(t.ld.out) < maxOutput && !t.ld.stopped {
		r |= waiter.WritableEvents
	}
	if t.masterClosed {
		r |= waiter.EventHUp | waiter.ReadableEvents | waiter.WritableEvents
	}
	return r & (mask | waiter.EventHUp | waiter.EventErr)
}

// Resize sets the window size and sends SIGWINCH to the foreground
// process group if it changed (tty_do_resize()).
func (t *Terminal) Resize(rows, cols uint16) {
	t.setWinsize(unix.Winsize{Row: rows, Col: cols})
}

func (t *Terminal) setWinsize(ws unix.Winsize) {
	t.mu.Lock()
	changed := t.winsize != ws
	t.winsize = ws
	pgrp := t.pgrp
	t.mu.Unlock()
	if changed {
		t.signalForeground(unix.SIGWINCH, pgrp)
	}
}

// SetControlling makes the terminal the controlling terminal of session
// sid with foreground process group pgrp (what runc does for the
// container's process with setsid + TIOCSCTTY before exec).
func (t *Terminal) SetControlling(sid, pgrp int32) {
	t.mu.Lock()
	t.sid, t.pgrp = sid, pgrp
	t.mu.Unlock()
	t.fs.setCtty(sid, t)
}

// hangup is the master's release (pty_close() -> tty_vhangup()): readers
// of the replica see end of file, writers EIO, and the session leader
// and the foreground group get SIGHUP then SIGCONT.
func (t *Terminal) hangup() {
	t.mu.Lock()
	if t.masterClosed {
		t.mu.Unlock()
		return
	}
	t.masterClosed = true
	sid, pgrp := t.sid, t.pgrp
	t.sid, t.pgrp = 0, 0
	t.mu.Unlock()
	t.notify()
	if sid > 0 {
		t.fs.clearCtty(sid, t)
		if jc := t.fs.jc; jc != nil {
			jc.SignalProcess(sid, int(unix.SIGHUP))
			jc.SignalProcess(sid, int(unix.SIGCONT))
			if pgrp > 0 && pgrp != sid {
				jc.SignalProcessGroup(pgrp, int(unix.SIGHUP))
			}
		}
	}
}

// Close releases the master side held by the sandbox's own bridge (not
// a file in the sandbox): the terminal hangs up and /dev/pts/N goes away.
func (t *Terminal) Close() {
	t.hangup()
	t.fs.remove(t)
}

// WriteInput feeds b as typed keystrokes, blocking while the input is
// full; stop aborts. It is the sandbox's bridge from a host terminal.
func (t *Terminal) WriteInput(b []byte, stop <-chan struct{}) error {
	for len(b) > 0 {
		n, err := t.writeInput(b)
		b = b[n:]
		switch err {
		case nil:
			continue
		case unix.EAGAIN:
			if !t.waitMaster(waiter.WritableEvents, stop) {
				return unix.EINTR
			}
		default:
			return err
		}
	}
	return nil
}

// ReadOutput blocks until output is available and copies it to dst; EIO
// once every replica file is closed; stop aborts.
func (t *Terminal) ReadOutput(dst []byte, stop <-chan struct{}) (int, error) {
	for {
		n, err := t.readOutput(dst)
		if err != unix.EAGAIN {
			return n, err
		}
		if !t.waitMaster(waiter.ReadableEvents|waiter.EventHUp, stop) {
			return 0, unix.EINTR
		}
	}
}

// waitMaster waits for mask on the master side; false if stop fired.
func (t *Terminal) waitMaster(mask waiter.EventMask, stop <-chan struct{}) bool {
	e, ch := waiter.NewChannelEntry(mask)
	t.masterQ.EventRegister(&e)
	defer t.masterQ.EventUnregister(&e)
	if t.masterReadiness(mask) != 0 {
		return true
	}
	select {
	case <-ch:
		return true
	case <-stop:
		return false
	}
}

// OpenReplica opens /dev/pts/N in the sandbox's VFS for the app's
// descriptor table (so /proc/self/fd shows /dev/pts/N and ttyname(3)
// works).
func (t *Terminal) OpenReplica(v *vfs.VirtualFilesystem, creds vfs.Context, fsc *vfs.FSContext, devptsPath string) (*vfs.FileDescription, error) {
	return v.Open(creds, fsc, nil, devptsPath, unix.O_RDWR|unix.O_NOCTTY, 0)
}
