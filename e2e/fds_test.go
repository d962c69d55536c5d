package e2e

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSentryHostFDs checks that the sentry holds no host file descriptor
// for a path it opened itself (issue #2): every descriptor of the sentry
// process must be
//
//   - 0, 1 or 2 (the stdio it was started with) or a duplicate of one
//     (the same open file description, by kcmp(2): the app's stdio),
//   - a socket, pipe or anonymous inode (the gofer connection, the Go
//     runtime's epoll and eventfd, ...),
//   - the memory file (a memfd, "/memfd:..."), or
//   - a file the gofer donated.
//
// Telling a donated file from one the sentry opened itself needs more than
// /proc/PID/fd, which shows the same path either way. So the rootfs is put
// on a filesystem of its own (a tmpfs mounted for the test) watched with
// fanotify, which reports the process that opened each file: every open
// there must come from the gofer (never from the sentry), and every file
// the sentry holds must be one the gofer opened (same device and inode).
//
// By hand: run `pangolin do -- sleep 60`, find the sentry with
// `pgrep -f 'pangolin boot'`, and `ls -l /proc/PID/fd`: only sockets,
// pipes, anon_inode entries, /memfd:..., stdio, and files of the rootfs
// (which only the gofer opens: watch with fanotify, or strace -f the
// gofer and see the same inodes).
func TestSentryHostFDs(t *testing.T) {
	requireRoot(t)
	bin := pangolin(t)
	cached := cachedRootfs(t, "busybox")

	mnt, err := os.MkdirTemp("", "pangolin-e2e-fanotify-")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("pangolin-e2e", mnt, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=256m"); err != nil {
		t.Skipf("cannot mount a tmpfs for the rootfs (machine capability missing): %v", err)
	}
	t.Cleanup(func() {
		_ = unix.Unmount(mnt, unix.MNT_DETACH)
		os.Remove(mnt)
	})
	if out, err := exec.Command("cp", "-a", cached+"/.", mnt).CombinedOutput(); err != nil {
		t.Fatalf("copying rootfs: %v\n%s", err, out)
	}

	fan, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK|unix.FAN_UNLIMITED_QUEUE,
		unix.O_RDONLY|unix.O_LARGEFILE|unix.O_CLOEXEC)
	if err != nil {
		t.Skipf("fanotify_init (machine capability missing): %v", err)
	}
	if err := unix.FanotifyMark(fan, unix.FAN_MARK_ADD|unix.FAN_MARK_FILESYSTEM,
		unix.FAN_OPEN|unix.FAN_OPEN_EXEC, unix.AT_FDCWD, mnt); err != nil {
		unix.Close(fan)
		t.Skipf("fanotify_mark FAN_MARK_FILESYSTEM (machine capability missing): %v", err)
	}
	w := &openWatcher{f: os.NewFile(uintptr(fan), "fanotify"), opened: map[int][]devIno{}}
	go w.run()

	cmd := exec.Command(bin, "do", "--rootfs", mnt, "--", "/bin/sh", "-c", "cat /etc/passwd >/dev/null; exec sleep 3")
	cmd.Dir = "/"
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sentry, gofer := waitForChildren(t, cmd.Process.Pid)
	// The app runs once the sentry has a stub child; give it time to
	// exec sleep.
	deadline := time.Now().Add(20 * time.Second)
	for len(childrenOf(sentry)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	fds := snapshotFDs(t, sentry)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sandbox run: %v\n%s", err, stderr.String())
	}
	w.stop()

	self, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	goferFiles := map[devIno]bool{}
	for _, di := range w.byPID(gofer) {
		goferFiles[di] = true
	}
	if len(goferFiles) == 0 {
		problems = append(problems, "fanotify saw the gofer open nothing: the check is not watching the rootfs")
	}
	for _, di := range w.byPID(sentry) {
		if di == devInoOf(self) {
			continue // its own executable, exec'd by the CLI
		}
		problems = append(problems, fmt.Sprintf("the sentry opened a rootfs file itself (dev %d ino %d)", di.dev, di.ino))
	}
	donated := 0
	for _, fd := range fds {
		switch {
		case fd.num <= 2, fd.stdioDup:
		case strings.HasPrefix(fd.target, "socket:["), strings.HasPrefix(fd.target, "pipe:["),
			strings.HasPrefix(fd.target, "anon_inode:"):
		case strings.HasPrefix(fd.target, "/memfd:"):
		case goferFiles[fd.id]:
			donated++
		default:
			problems = append(problems, fmt.Sprintf("fd %d -> %s is not stdio, a socket, a pipe, an anonymous inode, the memory file or a file the gofer opened", fd.num, fd.target))
		}
	}
	if donated == 0 {
		problems = append(problems, "the sentry held no gofer-donated file while sh ran (expected at least the mapped executable)")
	}
	var listing strings.Builder
	for _, fd := range fds {
		fmt.Fprintf(&listing, "  %d -> %s\n", fd.num, fd.target)
	}
	t.Logf("sentry fds (%d donated):\n%s", donated, listing.String())
	if len(problems) > 0 {
		verdict(t, strings.Join(problems, "\n"))
		return
	}
	verdict(t, "")
}

type devIno struct{ dev, ino uint64 }

func devInoOf(fi os.FileInfo) devIno {
	st := fi.Sys().(*syscall.Stat_t)
	return devIno{uint64(st.Dev), st.Ino}
}

// openWatcher collects fanotify open events: which process opened which
// inode.
type openWatcher struct {
	f    *os.File
	mu   sync.Mutex
	done chan struct{}
	// opened maps a pid to the inodes it opened. Protected by mu.
	opened map[int][]devIno
}

func (w *openWatcher) run() {
	w.mu.Lock()
	w.done = make(chan struct{})
	w.mu.Unlock()
	defer close(w.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+24 <= n; {
			evLen := int(binary.LittleEndian.Uint32(buf[off:]))
			fd := int32(binary.LittleEndian.Uint32(buf[off+16:]))
			pid := int(int32(binary.LittleEndian.Uint32(buf[off+20:])))
			if evLen < 24 {
				break
			}
			if fd >= 0 {
				var st unix.Stat_t
				if unix.Fstat(int(fd), &st) == nil {
					w.mu.Lock()
					w.opened[pid] = append(w.opened[pid], devIno{uint64(st.Dev), st.Ino})
					w.mu.Unlock()
				}
				unix.Close(int(fd))
			}
			off += evLen
		}
	}
}

// stop drains what is queued and stops the reader.
func (w *openWatcher) stop() {
	time.Sleep(200 * time.Millisecond)
	w.f.Close()
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if done != nil {
		<-done
	}
}

func (w *openWatcher) byPID(pid int) []devIno {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.opened[pid]
}

// childrenOf lists the children of pid: /proc/PID/task/TID/children
// lists those of one thread, and a Go program forks from any thread.
func childrenOf(pid int) []int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var out []int
	for _, tk := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, tk.Name()))
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// waitForChildren finds the sentry (`pangolin boot`) and gofer
// (`pangolin gofer`) children of the CLI.
func waitForChildren(t *testing.T, cli int) (sentry, gofer int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range childrenOf(cli) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c))
			args := strings.Split(string(b), "\x00")
			if len(args) > 1 {
				switch args[1] {
				case "boot":
					sentry = c
				case "gofer":
					gofer = c
				}
			}
		}
		if sentry != 0 && gofer != 0 {
			return sentry, gofer
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no sentry and gofer under the CLI (pid %d)", cli)
	return 0, 0
}

type heldFD struct {
	num      int
	target   string
	id       devIno
	stdioDup bool // the same file description as fd 0, 1 or 2
}

// snapshotFDs lists pid's descriptors with their targets and inodes.
func snapshotFDs(t *testing.T, pid int) []heldFD {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	var out []heldFD
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p := filepath.Join(dir, e.Name())
		target, err := os.Readlink(p)
		if err != nil {
			continue // closed meanwhile
		}
		h := heldFD{num: n, target: target, stdioDup: isStdioDup(pid, n)}
		if fi, err := os.Stat(p); err == nil {
			h.id = devInoOf(fi)
		}
		out = append(out, h)
	}
	return out
}

// isStdioDup reports whether pid's fd is the same open file description
// as its fd 0, 1 or 2 (kcmp(2) KCMP_FILE).
func isStdioDup(pid, fd int) bool {
	const kcmpFile = 0
	for std := 0; std <= 2; std++ {
		r, _, errno := unix.Syscall6(unix.SYS_KCMP, uintptr(pid), uintptr(pid), kcmpFile, uintptr(fd), uintptr(std), 0)
		if errno == 0 && r == 0 {
			return true
		}
	}
	return false
}
