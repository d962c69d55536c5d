package main

import (
	"fmt"
	"log"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/devpts"
	"pangolin/fs/proc"
	"pangolin/fs/vfs"
	"pangolin/sentry/kernel"
)

// sandboxTTY is a process's terminal: a sentry pty (/dev/pts/N in the
// sandbox, with the sentry's own line discipline, so ^C, job control and
// ttyname work inside) bridged to a host terminal, the replica of a host
// pty whose master went to the console socket (or to run's proxy). The
// host side is put in raw mode: every keystroke reaches the sentry's line
// discipline untouched. Window size changes on the host master are
// noticed by polling the host terminal's size.
type sandboxTTY struct {
	host *os.File         // the host terminal, non-blocking; owned
	term *devpts.Terminal // the sentry side
	sb   *sandboxFS       // for opening /dev/pts/N
	uid  uint32           // owner of /dev/pts/N
	stop chan struct{}    // closed by close
	out  chan struct{}    // closed when all output reached the host
	file *vfs.FileDescription
}

// ttyPollInterval is how often the host terminal's size is checked.
const ttyPollInterval = 200 * time.Millisecond

// newSandboxTTY uses the sentry's own stdin, which create made the host
// pty replica, as init's terminal.
func newSandboxTTY(sb *sandboxFS, k *kernel.Kernel, uid uint32, rows, cols uint16) (*sandboxTTY, error) {
	fd, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, err
	}
	return newSandboxTTYFromFile(sb, k, os.NewFile(uintptr(fd), "tty"), uid, rows, cols)
}

// newSandboxTTYFromFile takes ownership of f, a host terminal.
func newSandboxTTYFromFile(sb *sandboxFS, _ *kernel.Kernel, f *os.File, uid uint32, rows, cols uint16) (*sandboxTTY, error) {
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		f.Close()
		return nil, fmt.Errorf("not a terminal: %w", err)
	}
	if sb.pts == nil {
		f.Close()
		return nil, fmt.Errorf("process.terminal needs a devpts mount (/dev/pts) in config.json")
	}
	if _, err := makeRaw(fd); err != nil {
		f.Close()
		return nil, fmt.Errorf("host terminal: %w", err)
	}
	if rows != 0 || cols != 0 {
		_ = unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	}
	// Non-blocking, so that the runtime's poller can interrupt reads at
	// close (the description is the sandbox's own). A new *os.File over a
	// duplicate: os.NewFile registers a non-blocking descriptor with the
	// poller, and f must not stay around to close the number it owns.
	if err := unix.SetNonblock(fd, true); err != nil {
		f.Close()
		return nil, err
	}
	// A second *os.File for the same descriptor would close it when the
	// first is garbage collected (os.File's finalizer): hand the poller
	// a duplicate and close the original.
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	fd = nfd
	hf := os.NewFile(uintptr(fd), "tty")
	term, err := sb.pts.NewTerminal(uid)
	if err != nil {
		hf.Close()
		return nil, fmt.Errorf("allocating a pty: %w", err)
	}
	t := &sandboxTTY{host: hf, term: term, sb: sb, uid: uid, stop: make(chan struct{}), out: make(chan struct{})}
	if ws, err := unix.IoctlGetWinsize(nfd, unix.TIOCGWINSZ); err == nil {
		term.Resize(ws.Row, ws.Col)
	}
	go t.input()
	go t.output()
	go t.watchSize()
	return t, nil
}

// input copies keystrokes from the host terminal into the sentry's line
// discipline. A hang-up of the host side (EIO, EOF) hangs up the sentry
// terminal: its session gets SIGHUP.
func (t *sandboxTTY) input() {
	buf := make([]byte, 4096)
	for {
		n, err := t.host.Read(buf)
		if n > 0 {
			if t.term.WriteInput(buf[:n], t.stop) != nil {
				return
			}
		}
		if err != nil {
			select {
			case <-t.stop:
			default:
				log.Printf("terminal %d: host side closed (%v): hanging up", t.term.Number(), err)
				t.term.Close()
			}
			return
		}
	}
}

// output copies the terminal's output to the host until every replica
// file in the sandbox is closed.
func (t *sandboxTTY) output() {
	defer close(t.out)
	buf := make([]byte, 16<<10)
	for {
		n, err := t.term.ReadOutput(buf, t.stop)
		if n > 0 {
			if _, werr := t.host.Write(buf[:n]); werr != nil {
				log.Printf("terminal %d: writing to the host terminal: %v", t.term.Number(), werr)
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// watchSize forwards host window size changes (the console socket's
// holder resizing the master) as TIOCSWINSZ on the sentry terminal.
func (t *sandboxTTY) watchSize() {
	tick := time.NewTicker(ttyPollInterval)
	defer tick.Stop()
	var last unix.Winsize
	if ws, err := unix.IoctlGetWinsize(int(t.host.Fd()), unix.TIOCGWINSZ); err == nil {
		last = *ws
	}
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		ws, err := unix.IoctlGetWinsize(int(t.host.Fd()), unix.TIOCGWINSZ)
		if err != nil {
			return
		}
		if *ws != last {
			last = *ws
			t.term.Resize(ws.Row, ws.Col)
		}
	}
}

// fdTable returns a table with /dev/pts/N as 0, 1 and 2 (one open file,
// as runc dups the console onto the three).
func (t *sandboxTTY) fdTable() (*vfs.FDTable, error) {
	f, err := t.sb.vfs.Open(rootCtx, t.sb.bootFS, nil, t.term.Path(t.sb.ptsPath), unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", t.term.Path(t.sb.ptsPath), err)
	}
	defer f.DecRef()
	fdt := vfs.NewFDTable()
	for i := int32(0); i < 3; i++ {
		if _, err := fdt.SetFD(i, f, vfs.FDFlags{}, 1<<20); err != nil {
			fdt.DecRef()
			return nil, err
		}
	}
	return fdt, nil
}

// setSession makes the terminal the controlling terminal of tg, which
// leads its own session (init, or an exec'd process), with tg as the
// foreground process group.
func (t *sandboxTTY) setSession(tg *kernel.ThreadGroup) {
	t.term.SetControlling(tg.PID(), tg.PID())
}

// resize sets the window size (the control socket's resize).
func (t *sandboxTTY) resize(rows, cols uint16) {
	_ = unix.IoctlSetWinsize(int(t.host.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	t.term.Resize(rows, cols)
}

// drain waits (at most d) until the output the app wrote reached the
// host: the sandbox must not exit with a last line still queued.
func (t *sandboxTTY) drain(d time.Duration) {
	select {
	case <-t.out:
	case <-time.After(d):
	}
}

// close hangs up and releases the terminal.
func (t *sandboxTTY) close() {
	t.drain(time.Second)
	select {
	case <-t.stop:
		return
	default:
	}
	close(t.stop)
	t.term.Close()
	t.host.Close()
}

// devpts returns the sandbox's devpts filesystem for a devpts mount at
// target, creating it on first use.
func (sb *sandboxFS) devpts(k *kernel.Kernel, target string) (*vfs.Filesystem, error) {
	if sb.pts == nil {
		fs, pts, err := devpts.New(sb.vfs, k)
		if err != nil {
			return nil, err
		}
		sb.pts, sb.ptsFS, sb.ptsPath = pts, fs, target
	}
	return sb.ptsFS, nil
}

// mountDevpts mounts the sandbox's terminals at /dev/pts (for do).
func (sb *sandboxFS) mountDevpts(k *kernel.Kernel) error {
	fs, err := sb.devpts(k, "/dev/pts")
	if err != nil {
		return fmt.Errorf("devpts: %w", err)
	}
	return sb.mount("/dev/pts", fs, vfs.MountFlags{NoSuid: true, NoExec: true})
}

// newProcFS returns a procfs instance for k.
func newProcFS(k *kernel.Kernel) (*vfs.Filesystem, error) {
	pfs, err := proc.New(k)
	if err != nil {
		return nil, fmt.Errorf("procfs: %w", err)
	}
	return k.VFS.NewFilesystem(pfs, pfs.Root())
}
