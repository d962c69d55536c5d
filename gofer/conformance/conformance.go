// Package conformance is the test suite every gofer server implementation
// must pass. A server's tests call Run with a function that starts the
// server on a directory; the suite builds file trees, talks to the server
// through pangolin/gofer/client (and raw packets for malformed input), and
// checks results against the host file system.
//
// The suite must run as root: it creates device nodes for the refusal
// tests and checks that files get the owner the client asked for.
package conformance

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/gofer/client"
	"pangolin/gofer/proto"
)

// StartFunc starts a server rooted at directory root (read-only if
// readOnly) and returns the client end of a connected SOCK_SEQPACKET socket,
// which the suite takes ownership of, and a kill function that stops the
// server abruptly, as a crash would (it may be called more than once). The
// StartFunc registers its own cleanup with t.Cleanup.
type StartFunc func(t testing.TB, root string, readOnly bool) (clientFD int, kill func())

// Options relax the suite for server configurations that knowingly lack a
// property.
type Options struct {
	// UnstableAcrossRename: nodes of renamed files may stop working
	// (ESTALE/ENOENT) for Open and truncation. Conforming servers keep
	// them working.
	UnstableAcrossRename bool
}

// Run runs the whole suite.
func Run(t *testing.T, start StartFunc, opts Options) {
	if os.Geteuid() != 0 {
		t.Skip("the gofer conformance suite needs root")
	}
	s := &suite{start: start, opts: opts}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"Mount", s.testMount},
		{"Walk", s.testWalk},
		{"WalkInvalidNames", s.testWalkInvalidNames},
		{"WalkDeep", s.testWalkDeep},
		{"SymlinkEscape", s.testSymlinkEscape},
		{"Stat", s.testStat},
		{"Open", s.testOpen},
		{"OpenSpecialRefused", s.testOpenSpecial},
		{"Create", s.testCreate},
		{"Mkdir", s.testMkdir},
		{"Mknod", s.testMknod},
		{"Symlink", s.testSymlink},
		{"Link", s.testLink},
		{"Unlink", s.testUnlink},
		{"Rename", s.testRename},
		{"Getdents", s.testGetdents},
		{"SetStat", s.testSetStat},
		{"StatFS", s.testStatFS},
		{"CloseNodes", s.testCloseNodes},
		{"Concurrency", s.testConcurrency},
		{"Malformed", s.testMalformed},
		{"ServerDeath", s.testServerDeath},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s.newEnv(t, false)) })
	}
	t.Run("ReadOnly", func(t *testing.T) { s.testReadOnly(t, s.newEnv(t, true)) })
}

type suite struct {
	start StartFunc
	opts  Options
}

// env is one server over a fresh tree:
//
//	root/
//	  dir/            0755
//	    file          "hello, gofer\n" 0644
//	  file            "root file" 0644
//	  empty/          0755
//	  link -> dir/file
//	  escape -> <outside>           (absolute, outside the root)
//	  relescape -> ../outside-dir   (relative, outside the root)
//	  fifo, sock, chardev (1:3, as /dev/null)
//	outside/          (next to root, never touched by the server)
//	  secret          "secret" 0600
type env struct {
	t       *testing.T
	root    string
	outside string
	c       *client.Client
	kill    func()
}

const (
	dirFileContent = "hello, gofer\n"
	secret         = "secret"
)

func (s *suite) newEnv(t *testing.T, readOnly bool) *env {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	must(t, os.MkdirAll(filepath.Join(root, "dir"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "empty"), 0o755))
	must(t, os.MkdirAll(outside, 0o755))
	must(t, os.WriteFile(filepath.Join(root, "dir", "file"), []byte(dirFileContent), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "file"), []byte("root file"), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte(secret), 0o600))
	must(t, os.Symlink("dir/file", filepath.Join(root, "link")))
	must(t, os.Symlink(outside, filepath.Join(root, "escape")))
	must(t, os.Symlink("../outside", filepath.Join(root, "relescape")))
	must(t, unix.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	must(t, unix.Mknod(filepath.Join(root, "chardev"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	sfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	must(t, err)
	must(t, unix.Bind(sfd, &unix.SockaddrUnix{Name: filepath.Join(root, "sock")}))
	t.Cleanup(func() { unix.Close(sfd) })

	fd, kill := s.start(t, root, readOnly)
	c, err := client.New(fd)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &env{t: t, root: root, outside: outside, c: c, kill: kill}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// walk walks a slash-separated relative path and requires full success.
func (e *env) walk(path string) client.Node {
	e.t.Helper()
	nodes, err := e.c.Walk(e.c.Root(), splitPath(path))
	if err != nil {
		e.t.Fatalf("Walk(%q): %v", path, err)
	}
	if len(nodes) != len(splitPath(path)) {
		e.t.Fatalf("Walk(%q): walked %d components, want %d", path, len(nodes), len(splitPath(path)))
	}
	return nodes[len(nodes)-1]
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if i > start {
				out = append(out, p[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func (e *env) host(rel string) string { return filepath.Join(e.root, filepath.FromSlash(rel)) }

func lstat(t testing.TB, path string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Lstat(path, &st))
	return st
}

// wantErrno fails unless err wraps errno.
func wantErrno(t testing.TB, what string, err error, errno unix.Errno) {
	t.Helper()
	if !errors.Is(err, errno) {
		t.Errorf("%s: got error %v, want %v (%s)", what, err, errno, unix.ErrnoName(errno))
	}
}

// withTimeout runs f and fails the test if it takes longer than d: a server
// that blocks (say, opening a FIFO) must not hang the suite.
func withTimeout(t testing.TB, what string, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: no answer after %v", what, d)
	}
}

// sameStat compares wire attributes with the host's.
func sameStat(t testing.TB, what string, got proto.Stat, want unix.Stat_t) {
	t.Helper()
	w := proto.StatFromUnix(&want)
	// atime may move when the test itself reads the file; compare the rest.
	got.Atime, w.Atime = proto.Timespec{}, proto.Timespec{}
	if got != w {
		t.Errorf("%s: stat\n got %+v\nwant %+v", what, got, w)
	}
}
