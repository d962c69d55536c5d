package server_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/gofer/client"
	"pangolin/gofer/conformance"
	"pangolin/gofer/filter"
	"pangolin/gofer/server"
	"pangolin/seccomp"
)

// childEnv makes the test binary act as a gofer process (see TestMain):
// PANGOLIN_GOFER_TEST_CHILD=<root>:<ro> serves <root> on fd 3; with
// filterEnv set, under the gofer's seccomp filter, as `pangolin gofer`.
const (
	childEnv  = "PANGOLIN_GOFER_TEST_CHILD"
	filterEnv = "PANGOLIN_GOFER_TEST_FILTER"
)

func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		ro := v[len(v)-1] == '1'
		root := v[:len(v)-2]
		opts := server.Options{ReadOnly: ro}
		if os.Getenv(filterEnv) == "1" {
			opts.BeforeServe = func() error { return seccomp.Install(filter.Rules()) }
		}
		if err := server.ServePath(root, 3, opts); err != nil {
			fmt.Fprintln(os.Stderr, "gofer child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func socketpair(t testing.TB) (clientFD, serverFD int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fds[0], fds[1]
}

// inProcess starts a server goroutine. kill shuts the socket down under the
// server, which the client sees exactly as a dead gofer process.
func inProcess(opts server.Options) conformance.StartFunc {
	return func(t testing.TB, root string, readOnly bool) (int, func()) {
		cfd, sfd := socketpair(t)
		rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		o := opts
		o.ReadOnly = readOnly
		srv := server.New(rootFD, o)
		// Keep our own reference to the socket for kill: Serve owns sfd.
		killFD, err := unix.Dup(sfd)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(sfd) }()
		t.Cleanup(func() {
			unix.Shutdown(killFD, unix.SHUT_RDWR)
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
				srv.Close()
			case <-time.After(10 * time.Second):
				// A handler is stuck in a host syscall (a server bug the
				// suite reports); leak the server rather than hang.
				t.Errorf("Serve did not return 10s after hangup")
			}
			unix.Close(killFD)
		})
		return cfd, func() { unix.Shutdown(killFD, unix.SHUT_RDWR) }
	}
}

// subprocess runs the server in a separate process through ServePath, as
// `pangolin gofer` does; kill is SIGKILL.
func subprocess(t testing.TB, root string, readOnly bool) (int, func()) {
	return startSubprocess(t, root, readOnly, false)
}

// filteredSubprocess is subprocess under the gofer's real seccomp filter
// (gofer/filter). A server operation that needs a syscall the filter lacks
// kills the child; the cleanup names that syscall.
func filteredSubprocess(t testing.TB, root string, readOnly bool) (int, func()) {
	return startSubprocess(t, root, readOnly, true)
}

func startSubprocess(t testing.TB, root string, readOnly, filtered bool) (int, func()) {
	cfd, sfd := socketpair(t)
	f := os.NewFile(uintptr(sfd), "gofer-sock")
	defer f.Close()
	ro := "0"
	if readOnly {
		ro = "1"
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+root+":"+ro)
	if filtered {
		cmd.Env = append(cmd.Env, filterEnv+"=1")
	}
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == unix.SIGSYS {
			name := "a syscall outside its allowlist"
			if nr, err := seccomp.FindKill(cmd.Process.Pid, 0, time.Second); err == nil {
				name = seccomp.SyscallName(nr)
			}
			t.Errorf("the gofer's seccomp filter killed it: %s", name)
		}
	})
	return cfd, func() { cmd.Process.Kill() }
}

func TestConformance(t *testing.T) {
	conformance.Run(t, inProcess(server.Options{}), conformance.Options{})
}

// TestConformanceNoProcNoOpenat2 runs the suite with both fallbacks: reopen
// by parent and name, and plain openat(O_NOFOLLOW).
func TestConformanceNoProcNoOpenat2(t *testing.T) {
	conformance.Run(t, inProcess(server.Options{DisableProcReopen: true, DisableOpenat2: true}),
		conformance.Options{UnstableAcrossRename: true})
}

// TestConformanceNoProc runs the suite with the parent/name reopen fallback
// behind openat2(2).
func TestConformanceNoProc(t *testing.T) {
	conformance.Run(t, inProcess(server.Options{DisableProcReopen: true}),
		conformance.Options{UnstableAcrossRename: true})
}

func TestConformanceSubprocess(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process per subtest")
	}
	conformance.Run(t, subprocess, conformance.Options{})
}

// TestConformanceFiltered runs the suite against a gofer process confined
// by its seccomp filter, so a rule the server needs but the filter lacks
// fails here, with the syscall named.
func TestConformanceFiltered(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process per subtest")
	}
	conformance.Run(t, filteredSubprocess, conformance.Options{})
}

// TestNodesReleased checks that a connection's host FDs are all closed when
// the client hangs up.
func TestNodesReleased(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before := countFDs(t)
	cfd, sfd := socketpair(t)
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(rootFD, server.Options{})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sfd) }()
	c, err := client.New(cfd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := c.Walk(c.Root(), []string{"f"}); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if after := countFDs(t); after != before {
		t.Errorf("%d FDs open before, %d after", before, after)
	}
}

// TestMaxNodes checks the per-connection node limit.
func TestMaxNodes(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f"), nil, 0o644)
	cfd, kill := inProcess(server.Options{MaxNodes: 10})(t, root, false)
	defer kill()
	c, err := client.New(cfd)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var nodes []client.Node
	for i := 0; i < 9; i++ { // the root is node 1 of 10
		n, err := c.Walk(c.Root(), []string{"f"})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n...)
	}
	if _, err := c.Walk(c.Root(), []string{"f"}); !errorsIsErrno(err, unix.ENFILE) {
		t.Errorf("walk past the limit: %v, want ENFILE", err)
	}
	c.CloseNodes(nodes[0])
	if _, err := c.Walk(c.Root(), []string{"f"}); err != nil {
		t.Errorf("walk after close: %v", err)
	}
}

func countFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func errorsIsErrno(err error, e unix.Errno) bool {
	for err != nil {
		if x, ok := err.(unix.Errno); ok {
			return x == e
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func benchEnv(b *testing.B) *client.Client { return benchEnvWith(b, inProcess(server.Options{})) }

func benchEnvWith(b *testing.B, start conformance.StartFunc) *client.Client {
	root := b.TempDir()
	if err := os.WriteFile(filepath.Join(root, "file"), []byte("data"), 0o644); err != nil {
		b.Fatal(err)
	}
	cfd, _ := start(b, root, false)
	c, err := client.New(cfd)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkStat is one round trip: the protocol's floor.
func BenchmarkStat(b *testing.B) {
	c := benchEnv(b)
	for b.Loop() {
		if _, err := c.Stat(c.Root()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWalkOpen is what an open(2) of an uncached file costs the
// sentry: Walk, Open (FD donation), and releasing the node.
func BenchmarkWalkOpen(b *testing.B) {
	c := benchEnv(b)
	names := []string{"file"}
	for b.Loop() {
		nodes, err := c.Walk(c.Root(), names)
		if err != nil {
			b.Fatal(err)
		}
		fd, err := c.Open(nodes[0], unix.O_RDONLY)
		if err != nil {
			b.Fatal(err)
		}
		unix.Close(fd)
		if err := c.CloseNodes(nodes...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWalkOpenSubprocess is BenchmarkWalkOpen against a gofer in its
// own process, as deployed.
func BenchmarkWalkOpenSubprocess(b *testing.B) {
	c := benchEnvWith(b, subprocess)
	names := []string{"file"}
	for b.Loop() {
		nodes, err := c.Walk(c.Root(), names)
		if err != nil {
			b.Fatal(err)
		}
		fd, err := c.Open(nodes[0], unix.O_RDONLY)
		if err != nil {
			b.Fatal(err)
		}
		unix.Close(fd)
		if err := c.CloseNodes(nodes...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWalkOpenParallel is BenchmarkWalkOpen from many goroutines.
func BenchmarkWalkOpenParallel(b *testing.B) {
	c := benchEnv(b)
	names := []string{"file"}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			nodes, err := c.Walk(c.Root(), names)
			if err != nil {
				b.Fatal(err)
			}
			fd, err := c.Open(nodes[0], unix.O_RDONLY)
			if err != nil {
				b.Fatal(err)
			}
			unix.Close(fd)
			c.CloseNodes(nodes...)
		}
	})
}
