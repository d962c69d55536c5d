package main

import (
	"fmt"
	"log"
	"os"

	"golang.org/x/sys/unix"

	"pangolin/fs/host"
	"pangolin/fs/proc"
	"pangolin/fs/vfs"
	"pangolin/sentry/kernel"
)

// sandboxTTY is a process's terminal: the host terminal (a pty replica
// whose master went to the console socket) given to the app as its stdin,
// stdout and stderr.
type sandboxTTY struct {
	f *os.File // the host terminal; owned
}

// newSandboxTTY uses the sentry's own stdin, which create made the pty
// replica, as init's terminal.
func newSandboxTTY(sb *sandboxFS, k *kernel.Kernel, _ int32, rows, cols uint16) (*sandboxTTY, error) {
	fd, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, err
	}
	return newSandboxTTYFromFile(sb, k, os.NewFile(uintptr(fd), "tty"), rows, cols)
}

// newSandboxTTYFromFile takes ownership of f, a host terminal.
func newSandboxTTYFromFile(_ *sandboxFS, _ *kernel.Kernel, f *os.File, rows, cols uint16) (*sandboxTTY, error) {
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		f.Close()
		return nil, fmt.Errorf("not a terminal: %w", err)
	}
	t := &sandboxTTY{f: f}
	if rows != 0 || cols != 0 {
		t.resize(rows, cols)
	}
	return t, nil
}

// fdTable returns a table with the terminal as 0, 1 and 2.
func (t *sandboxTTY) fdTable() (*vfs.FDTable, error) {
	fdt := vfs.NewFDTable()
	for i := int32(0); i < 3; i++ {
		hfd, err := unix.FcntlInt(t.f.Fd(), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			fdt.DecRef()
			return nil, err
		}
		f, err := host.NewFile(hfd, host.Options{})
		if err != nil {
			unix.Close(hfd)
			fdt.DecRef()
			return nil, err
		}
		_, err = fdt.SetFD(i, f, vfs.FDFlags{}, 1<<20)
		f.DecRef()
		if err != nil {
			fdt.DecRef()
			return nil, err
		}
	}
	return fdt, nil
}

// setSession makes tg the terminal's session leader.
func (t *sandboxTTY) setSession(tg *kernel.ThreadGroup) {}

// resize sets the window size.
func (t *sandboxTTY) resize(rows, cols uint16) {
	_ = unix.IoctlSetWinsize(int(t.f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
}

// close releases the sentry's reference on the terminal.
func (t *sandboxTTY) close() { t.f.Close() }

// devpts returns the filesystem for a devpts mount.
func (sb *sandboxFS) devpts() (*vfs.Filesystem, error) {
	log.Printf("devpts is not implemented yet: /dev/pts not mounted")
	return nil, nil
}

// newProcFS returns a procfs instance for k.
func newProcFS(k *kernel.Kernel) (*vfs.Filesystem, error) {
	pfs, err := proc.New(k)
	if err != nil {
		return nil, fmt.Errorf("procfs: %w", err)
	}
	return k.VFS.NewFilesystem(pfs, pfs.Root())
}
