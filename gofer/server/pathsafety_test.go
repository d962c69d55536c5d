package server_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/gofer/client"
	"pangolin/gofer/server"
)

// Path safety beyond the conformance suite (which covers "..", absolute and
// relative symlinks out of the root, FIFOs, device nodes and sockets):
// /proc magic links inside the served tree, and renames racing with walks.

// procEnv, when set, makes the gofer child (TestMain) mount a procfs at
// <root>/proc in its own mount namespace before serving: a served tree
// that contains a live procfs, as a careless rootfs could.
const procEnv = "PANGOLIN_GOFER_TEST_PROC"

func init() {
	if os.Getenv(childEnv) != "" && os.Getenv(procEnv) == "1" {
		v := os.Getenv(childEnv)
		root := v[:len(v)-2]
		// The child was started in a new mount namespace (CLONE_NEWNS):
		// keep the procfs mount out of the host's.
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			panic(err)
		}
		if err := unix.Mount("proc", filepath.Join(root, "proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			panic(err)
		}
	}
}

// TestProcMagicLinks serves a tree with a live procfs inside and checks
// that the server stops at every magic link (/proc/self, /proc/PID/root,
// /proc/PID/cwd, /proc/PID/exe, /proc/PID/fd/N) and never opens one: each
// would lead out of the tree (to the host's root, or to any file the
// gofer holds).
func TestProcMagicLinks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	base := t.TempDir()
	root := filepath.Join(base, "root")
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "secret"), []byte("host secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfd, sfd := socketpair(t)
	f := os.NewFile(uintptr(sfd), "gofer-sock")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+root+":0", procEnv+"=1")
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c, err := client.New(cfd)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	pid := "1" // the host's init: its root is the host's /
	stopped := 0
	for _, path := range [][]string{
		{"proc", "self"},
		{"proc", "thread-self"},
		{"proc", pid, "root"},
		{"proc", pid, "cwd"},
		{"proc", pid, "exe"},
	} {
		nodes, err := c.Walk(c.Root(), append(path, "etc"))
		if err != nil {
			// /proc/1/exe etc. may be unreadable in odd setups; a
			// refusal is as good as stopping.
			t.Logf("walk %v: %v", path, err)
			continue
		}
		last := nodes[len(nodes)-1]
		if len(nodes) != len(path) || !last.IsSymlink() {
			t.Errorf("walk %v/etc: %d nodes, last mode %#o: want to stop at the magic link", path, len(nodes), last.Stat.Mode)
			continue
		}
		fd, err := c.Open(last, unix.O_RDONLY)
		if fd >= 0 {
			unix.Close(fd)
		}
		if !errors.Is(err, unix.ELOOP) {
			t.Errorf("open %v: %v, want ELOOP", path, err)
		}
		stopped++
	}
	if stopped < 3 {
		t.Errorf("only %d magic links could be walked to", stopped)
	}
	// The server's own descriptors: /proc/<gofer>/fd/N are magic links to
	// its nodes, including the root's.
	nodes, err := c.Walk(c.Root(), []string{"proc", itoa(cmd.Process.Pid), "fd"})
	if err != nil || len(nodes) != 3 {
		t.Fatalf("walk proc/<gofer>/fd: %v", err)
	}
	ents, err := c.Getdents(nodes[2])
	if err != nil || len(ents) < 3 {
		t.Fatalf("getdents proc/<gofer>/fd: %d entries, %v", len(ents), err)
	}
	for _, e := range ents {
		n, err := c.Walk(nodes[2], []string{e.Name})
		if err != nil || len(n) != 1 {
			continue
		}
		if !n[0].IsSymlink() {
			t.Errorf("/proc/<gofer>/fd/%s is served as %#o, not as a link", e.Name, n[0].Stat.Mode)
		}
		fd, err := c.Open(n[0], unix.O_RDONLY)
		if fd >= 0 {
			unix.Close(fd)
			t.Errorf("opened the gofer's own fd %s through its magic link", e.Name)
		}
	}
}

func itoa(n int) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// TestRenameRaceWalk swaps a directory of the tree with a symlink to a
// directory outside it (renameat2 RENAME_EXCHANGE, from the host) while a
// client keeps walking through that name: every walk either ends in the
// tree or stops at the symlink, never at the file outside.
func TestRenameRaceWalk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(root, "a"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "a", "secret"), []byte("tree"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "b")); err != nil {
		t.Fatal(err)
	}
	var out unix.Stat_t
	if err := unix.Stat(filepath.Join(outside, "secret"), &out); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []server.Options{{}, {DisableOpenat2: true, DisableProcReopen: true}} {
		cfd, _ := inProcess(opts)(t, root, false)
		c, err := client.New(cfd)
		if err != nil {
			t.Fatal(err)
		}
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
			for !stop.Load() {
				unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
			}
		}()
		deadline := time.Now().Add(2 * time.Second)
		walks := 0
		for time.Now().Before(deadline) {
			for _, name := range []string{"a", "b"} {
				nodes, err := c.Walk(c.Root(), []string{name, "secret"})
				walks++
				if err != nil || len(nodes) == 0 {
					continue
				}
				last := nodes[len(nodes)-1]
				if last.Stat.Dev == out.Dev && last.Stat.Ino == out.Ino {
					t.Fatalf("walk %s/secret reached the file outside the tree", name)
				}
				if last.IsRegular() {
					fd, err := c.Open(last, unix.O_RDONLY)
					if err == nil {
						b := make([]byte, 32)
						n, _ := unix.Pread(fd, b, 0)
						unix.Close(fd)
						if string(b[:n]) == "host secret" {
							t.Fatalf("read the file outside the tree through %s", name)
						}
					}
				}
				c.CloseNodes(nodes...)
			}
		}
		stop.Store(true)
		wg.Wait()
		c.Close()
		t.Logf("%+v: %d walks raced with renames", opts, walks)
	}
}
