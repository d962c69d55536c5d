package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"pangolin/runsc-cli/container"
	"pangolin/runsc-cli/control"
)

func init() {
	register(&command{
		name:    "run",
		summary: "create and start a container, and wait for it unless --detach",
		run:     runRun,
		synopsis: `pangolin run [--bundle DIR] [--detach] [--pid-file FILE] [--console-socket SOCK] ID

Creates and starts container ID from the bundle's config.json. Without
--detach it waits for the container's process, forwards signals to it, then
deletes the container and exits with the process's status. With
process.terminal and no --console-socket, the process gets a new terminal
connected to this one (put in raw mode meanwhile), as with runc.

Example:
  mkdir -p b/rootfs && tar -C b/rootfs -xf rootfs.tar && cd b && pangolin spec && pangolin run c1`,
	})
}

func runRun(args []string) int {
	var o createOpts
	fs := newFlags("run")
	o.flags(fs)
	detach := fs.BoolP("detach", "d", false, "do not wait for the container's process")
	keep := fs.Bool("keep", false, "do not delete the container after it exits")
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	id, ok := needID(fs, "run")
	if !ok {
		return 1
	}
	var master *os.File
	var masterp **os.File
	if !*detach && o.consoleSocket == "" {
		masterp = &master // a terminal, if the process wants one, is ours to proxy
	}
	c, procs, err := createContainer(id, o, [3]*os.File{os.Stdin, os.Stdout, os.Stderr}, masterp)
	if err != nil {
		return reportCreateError(err)
	}
	if err := startContainer(c); err != nil {
		deleteContainer(c, true)
		c.Release()
		if master != nil {
			master.Close()
		}
		return errorf(1, "%v", err)
	}
	if *detach {
		procs.release()
		c.Release()
		return 0
	}
	// Other verbs (kill, exec, ps) must be able to lock the container
	// while it runs.
	c.Release()
	code := waitForeground(c, procs, master)
	if !*keep {
		if c2, err := store().Load(id); err == nil {
			deleteContainer(c2, true)
			c2.Release()
		}
	}
	return code
}

// waitForeground proxies the terminal (if any) and signals until the
// sandbox exits, and returns its exit status.
func waitForeground(c *container.Container, procs *sandboxProcs, master *os.File) int {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs)
	defer signal.Stop(sigs)
	if master != nil {
		defer master.Close()
		if restore, err := makeRaw(int(os.Stdin.Fd())); err == nil {
			defer restore()
		}
		resizeFrom(os.Stdin, master)
		go io.Copy(master, os.Stdin)
		go io.Copy(os.Stdout, master)
	}
	done := make(chan error, 1)
	go func() { done <- procs.boot.Wait() }()
	// Reaped, not released: a zombie gofer would keep the cgroup busy
	// for the delete that follows.
	go procs.gofer.Wait()
	for {
		select {
		case err := <-done:
			return exitCode(err)
		case s := <-sigs:
			sig := s.(syscall.Signal)
			switch sig {
			case unix.SIGCHLD, unix.SIGPIPE, unix.SIGURG:
				continue
			case unix.SIGWINCH:
				if master != nil {
					resizeFrom(os.Stdin, master)
				}
				continue
			}
			_, _ = call(c, &control.Request{Method: control.MethodSignal, Signo: int(sig)})
		}
	}
}

// exitCode turns a Wait result into a shell status.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
	return 1
}

// makeRaw puts the terminal fd in raw mode (cfmakeraw(3)) and returns a
// function that restores it.
func makeRaw(fd int) (func(), error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// resizeFrom copies the window size of terminal from to terminal to.
func resizeFrom(from, to *os.File) {
	ws, err := unix.IoctlGetWinsize(int(from.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	_ = unix.IoctlSetWinsize(int(to.Fd()), unix.TIOCSWINSZ, ws)
}
