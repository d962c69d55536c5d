package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/gofer/client"
	"pangolin/gofer/proto"
)

func (s *suite) testMount(t *testing.T, e *env) {
	r := e.c.Root()
	if !r.IsDir() {
		t.Fatalf("root mode %#o is not a directory", r.Stat.Mode)
	}
	sameStat(t, "root", r.Stat, lstat(t, e.root))
	if e.c.ReadOnly() {
		t.Error("read-write server reports read-only")
	}
	if e.c.Version() != proto.Version {
		t.Errorf("version %d, want %d", e.c.Version(), proto.Version)
	}
}

func (s *suite) testWalk(t *testing.T, e *env) {
	root := e.c.Root()
	nodes, err := e.c.Walk(root, []string{"dir", "file"})
	must(t, err)
	if len(nodes) != 2 || !nodes[0].IsDir() || !nodes[1].IsRegular() {
		t.Fatalf("walk dir/file: %+v", nodes)
	}
	sameStat(t, "dir", nodes[0].Stat, lstat(t, e.host("dir")))
	sameStat(t, "dir/file", nodes[1].Stat, lstat(t, e.host("dir/file")))
	if nodes[0].ID == nodes[1].ID || nodes[0].ID == root.ID {
		t.Errorf("node IDs not distinct: root %d, %d, %d", root.ID, nodes[0].ID, nodes[1].ID)
	}

	// Missing component: the nodes walked so far, and ENOENT.
	nodes, err = e.c.Walk(root, []string{"dir", "nope", "x"})
	wantErrno(t, "walk dir/nope/x", err, unix.ENOENT)
	if len(nodes) != 1 || !nodes[0].IsDir() {
		t.Errorf("walk dir/nope/x returned %d nodes, want 1 (dir)", len(nodes))
	}
	nodes, err = e.c.Walk(root, []string{"nope"})
	wantErrno(t, "walk nope", err, unix.ENOENT)
	if len(nodes) != 0 {
		t.Errorf("walk nope returned %d nodes", len(nodes))
	}

	// Through a regular file: ENOTDIR.
	nodes, err = e.c.Walk(root, []string{"file", "x"})
	wantErrno(t, "walk file/x", err, unix.ENOTDIR)
	if len(nodes) != 1 {
		t.Errorf("walk file/x returned %d nodes, want 1", len(nodes))
	}
	// Starting from a regular file: ENOTDIR, no nodes.
	f := e.walk("file")
	nodes, err = e.c.Walk(f, []string{"x"})
	wantErrno(t, "walk from file", err, unix.ENOTDIR)
	if len(nodes) != 0 {
		t.Errorf("walk from file returned %d nodes", len(nodes))
	}

	// Stops at a symlink, without error, returning the symlink node.
	nodes, err = e.c.Walk(root, []string{"link", "more"})
	must(t, err)
	if len(nodes) != 1 || !nodes[0].IsSymlink() {
		t.Fatalf("walk link/more: %+v, want one symlink node", nodes)
	}
	target, err := e.c.Readlink(nodes[0])
	must(t, err)
	if target != "dir/file" {
		t.Errorf("readlink link = %q", target)
	}
	// A symlink as the last component is returned, not followed.
	nodes, err = e.c.Walk(root, []string{"link"})
	must(t, err)
	if len(nodes) != 1 || !nodes[0].IsSymlink() {
		t.Errorf("walk link: %+v", nodes)
	}
	sameStat(t, "link", nodes[0].Stat, lstat(t, e.host("link")))

	// Empty walk.
	nodes, err = e.c.Walk(root, nil)
	if err != nil || len(nodes) != 0 {
		t.Errorf("empty walk: %v, %d nodes", err, len(nodes))
	}
}

func (s *suite) testWalkInvalidNames(t *testing.T, e *env) {
	for _, name := range []string{"", ".", "..", "a/b", "/", "/etc", "dir/", "../outside", strings.Repeat("x", 256), "nul\x00byte"} {
		nodes, err := e.c.Walk(e.c.Root(), []string{name})
		wantErrno(t, fmt.Sprintf("walk %q", name), err, unix.EINVAL)
		if len(nodes) != 0 {
			t.Errorf("walk %q returned nodes", name)
		}
		// Invalid anywhere in the list rejects the whole request.
		nodes, err = e.c.Walk(e.c.Root(), []string{"dir", name})
		wantErrno(t, fmt.Sprintf("walk dir,%q", name), err, unix.EINVAL)
		if len(nodes) != 0 {
			t.Errorf("walk dir,%q returned nodes", name)
		}
	}
	// The same names are refused by every operation taking a name.
	d := e.c.Root()
	for _, name := range []string{"", ".", "..", "a/b"} {
		_, fd, err := e.c.Create(d, name, unix.O_RDWR, 0o644, 0, 0)
		if fd >= 0 {
			unix.Close(fd)
		}
		wantErrno(t, "create "+name, err, unix.EINVAL)
		_, err = e.c.Mkdir(d, name, 0o755, 0, 0)
		wantErrno(t, "mkdir "+name, err, unix.EINVAL)
		_, err = e.c.Mknod(d, name, unix.S_IFIFO|0o644, 0, 0)
		wantErrno(t, "mknod "+name, err, unix.EINVAL)
		_, err = e.c.Symlink(d, name, "x", 0, 0)
		wantErrno(t, "symlink "+name, err, unix.EINVAL)
		_, err = e.c.Link(d, name, e.walk("file"))
		wantErrno(t, "link "+name, err, unix.EINVAL)
		wantErrno(t, "unlink "+name, e.c.Unlink(d, name, 0), unix.EINVAL)
		wantErrno(t, "rmdir "+name, e.c.Unlink(d, name, unix.AT_REMOVEDIR), unix.EINVAL)
		wantErrno(t, "rename from "+name, e.c.Rename(d, name, d, "x", 0), unix.EINVAL)
		wantErrno(t, "rename to "+name, e.c.Rename(d, "file", d, name, 0), unix.EINVAL)
	}
	// Nothing above may have touched the tree.
	if _, err := os.Stat(e.host("file")); err != nil {
		t.Errorf("root/file after invalid renames: %v", err)
	}
}

func (s *suite) testWalkDeep(t *testing.T, e *env) {
	// Deeper than one request (proto.MaxWalkNames): the client batches.
	depth := proto.MaxWalkNames*2 + 3
	var names []string
	p := e.root
	for i := 0; i < depth; i++ {
		name := fmt.Sprintf("d%d", i)
		names = append(names, name)
		p = filepath.Join(p, name)
	}
	must(t, os.MkdirAll(p, 0o755))
	must(t, os.WriteFile(filepath.Join(p, "leaf"), []byte("leaf"), 0o644))
	nodes, err := e.c.Walk(e.c.Root(), append(names, "leaf"))
	must(t, err)
	if len(nodes) != depth+1 || !nodes[depth].IsRegular() {
		t.Fatalf("deep walk: %d nodes", len(nodes))
	}
	// Missing in the second batch.
	nodes, err = e.c.Walk(e.c.Root(), append(names[:proto.MaxWalkNames+5:proto.MaxWalkNames+5], "missing"))
	wantErrno(t, "deep walk to missing", err, unix.ENOENT)
	if len(nodes) != proto.MaxWalkNames+5 {
		t.Errorf("deep walk to missing: %d nodes", len(nodes))
	}
}

// testSymlinkEscape checks that the server never follows a symlink, in
// particular ones pointing outside its root.
func (s *suite) testSymlinkEscape(t *testing.T, e *env) {
	root := e.c.Root()
	before := lstat(t, filepath.Join(e.outside, "secret"))
	for _, link := range []string{"escape", "relescape"} {
		nodes, err := e.c.Walk(root, []string{link, "secret"})
		must(t, err)
		if len(nodes) != 1 || !nodes[0].IsSymlink() {
			t.Fatalf("walk %s/secret: %+v, want to stop at the symlink", link, nodes)
		}
		l := nodes[0]
		withTimeout(t, "open "+link, 5*time.Second, func() {
			fd, err := e.c.Open(l, unix.O_RDONLY)
			if fd >= 0 {
				unix.Close(fd)
			}
			wantErrno(t, "open "+link, err, unix.ELOOP)
			fd, err = e.c.Open(l, unix.O_RDONLY|unix.O_DIRECTORY)
			if fd >= 0 {
				unix.Close(fd)
			}
			wantErrno(t, "open "+link+" O_DIRECTORY", err, unix.ELOOP)
		})
		_, err = e.c.Getdents(l)
		wantErrno(t, "getdents "+link, err, unix.ENOTDIR)
		_, fd, err := e.c.Create(l, "planted", unix.O_RDWR, 0o644, 0, 0)
		if fd >= 0 {
			unix.Close(fd)
		}
		wantErrno(t, "create in "+link, err, unix.ENOTDIR)
		_, err = e.c.Mkdir(l, "planted", 0o755, 0, 0)
		wantErrno(t, "mkdir in "+link, err, unix.ENOTDIR)
		_, err = e.c.Symlink(l, "planted", "x", 0, 0)
		wantErrno(t, "symlink in "+link, err, unix.ENOTDIR)
		wantErrno(t, "unlink in "+link, e.c.Unlink(l, "secret", 0), unix.ENOTDIR)
		wantErrno(t, "rename from "+link, e.c.Rename(l, "secret", root, "stolen", 0), unix.ENOTDIR)
		nodes, err = e.c.Walk(l, []string{"secret"})
		wantErrno(t, "walk from "+link, err, unix.ENOTDIR)
		if len(nodes) != 0 {
			t.Errorf("walk from %s returned nodes", link)
		}
		// Attribute changes apply to the link itself, never its target.
		_, err = e.c.SetStat(l, proto.SetAttr{Mask: proto.SetStatMode, Mode: 0o777})
		wantErrno(t, "chmod "+link, err, unix.EOPNOTSUPP)
		_, err = e.c.SetStat(l, proto.SetAttr{Mask: proto.SetStatSize, Size: 0})
		wantErrno(t, "truncate "+link, err, unix.EINVAL)
		st, err := e.c.SetStat(l, proto.SetAttr{Mask: proto.SetStatUID | proto.SetStatGID, UID: 4242, GID: 4242})
		must(t, err)
		if st.UID != 4242 || !st.IsSymlink() {
			t.Errorf("chown %s: got %+v", link, st)
		}
		st, err = e.c.SetStat(l, proto.SetAttr{Mask: proto.SetStatMtime, Mtime: proto.Timespec{Sec: 1000}})
		must(t, err)
		if st.Mtime.Sec != 1000 {
			t.Errorf("utimes %s: mtime %v", link, st.Mtime)
		}
		// Linking the symlink links the symlink.
		ln, err := e.c.Link(root, link+"-hard", l)
		must(t, err)
		if !ln.IsSymlink() {
			t.Errorf("link to %s is not a symlink: %#o", link, ln.Stat.Mode)
		}
	}
	if _, err := os.Lstat(filepath.Join(e.outside, "planted")); err == nil {
		t.Error("a file was created outside the root")
	}
	after := lstat(t, filepath.Join(e.outside, "secret"))
	if before != after {
		t.Errorf("secret outside the root changed:\nbefore %+v\nafter  %+v", before, after)
	}
	out := lstat(t, e.outside)
	if out.Uid != 0 || out.Mode&0o7777 != 0o755 {
		t.Errorf("outside dir changed: uid %d mode %#o", out.Uid, out.Mode)
	}
}

func (s *suite) testStat(t *testing.T, e *env) {
	for _, p := range []string{"dir", "dir/file", "file", "link", "fifo", "chardev", "sock", "empty"} {
		n := e.walk(p)
		st, err := e.c.Stat(n)
		must(t, err)
		sameStat(t, p, st, lstat(t, e.host(p)))
	}
	// Stat sees changes made behind the server's back.
	must(t, os.WriteFile(e.host("file"), []byte("longer content"), 0o644))
	st, err := e.c.Stat(e.walk("file"))
	must(t, err)
	if st.Size != int64(len("longer content")) {
		t.Errorf("size %d after host write", st.Size)
	}
}

func (s *suite) testOpen(t *testing.T, e *env) {
	f := e.walk("dir/file")
	fd, err := e.c.Open(f, unix.O_RDONLY)
	must(t, err)
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
		t.Errorf("donated FD flags %#x, %v: want FD_CLOEXEC", fl, err)
	}
	buf := make([]byte, 100)
	n, err := unix.Pread(fd, buf, 0)
	must(t, err)
	if string(buf[:n]) != dirFileContent {
		t.Errorf("read %q", buf[:n])
	}
	if _, err := unix.Pwrite(fd, []byte("x"), 0); !errors.Is(err, unix.EBADF) {
		t.Errorf("write to O_RDONLY FD: %v, want EBADF", err)
	}
	unix.Close(fd)

	// Write through the donated FD; the host file changes.
	fd, err = e.c.Open(f, unix.O_RDWR)
	must(t, err)
	_, err = unix.Pwrite(fd, []byte("HELLO"), 0)
	must(t, err)
	unix.Close(fd)
	if b, _ := os.ReadFile(e.host("dir/file")); string(b) != "HELLO, gofer\n" {
		t.Errorf("after write: %q", b)
	}

	// O_APPEND.
	fd, err = e.c.Open(f, unix.O_WRONLY|unix.O_APPEND)
	must(t, err)
	_, err = unix.Write(fd, []byte("tail"))
	must(t, err)
	unix.Close(fd)
	if b, _ := os.ReadFile(e.host("dir/file")); string(b) != "HELLO, gofer\ntail" {
		t.Errorf("after append: %q", b)
	}

	// O_TRUNC.
	fd, err = e.c.Open(f, unix.O_WRONLY|unix.O_TRUNC)
	must(t, err)
	unix.Close(fd)
	if st := lstat(t, e.host("dir/file")); st.Size != 0 {
		t.Errorf("size %d after O_TRUNC", st.Size)
	}

	// Directories: read-only, and the FD reads the directory.
	d := e.walk("dir")
	fd, err = e.c.Open(d, unix.O_RDONLY|unix.O_DIRECTORY)
	must(t, err)
	var st unix.Stat_t
	must(t, unix.Fstat(fd, &st))
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Ino != d.Stat.Ino {
		t.Errorf("directory FD stat %+v", st)
	}
	if n, err := unix.Getdents(fd, make([]byte, 4096)); err != nil || n == 0 {
		t.Errorf("getdents on donated dir FD: %d, %v", n, err)
	}
	unix.Close(fd)
	for _, fl := range []int{unix.O_WRONLY, unix.O_RDWR, unix.O_RDONLY | unix.O_TRUNC} {
		fd, err = e.c.Open(d, fl)
		if fd >= 0 {
			unix.Close(fd)
		}
		wantErrno(t, fmt.Sprintf("open dir %#x", fl), err, unix.EISDIR)
	}
	fd, err = e.c.Open(f, unix.O_RDONLY|unix.O_DIRECTORY)
	if fd >= 0 {
		unix.Close(fd)
	}
	wantErrno(t, "open file O_DIRECTORY", err, unix.ENOTDIR)

	// A node keeps naming its file after a rename behind the server's back.
	if !s.opts.UnstableAcrossRename {
		rf := e.walk("file")
		must(t, os.Rename(e.host("file"), e.host("empty/moved")))
		fd, err = e.c.Open(rf, unix.O_RDONLY)
		must(t, err)
		n, _ := unix.Pread(fd, buf, 0)
		unix.Close(fd)
		if string(buf[:n]) != "root file" {
			t.Errorf("open moved file read %q", buf[:n])
		}
	}
}

func (s *suite) testOpenSpecial(t *testing.T, e *env) {
	for _, tc := range []struct {
		path  string
		errno unix.Errno
	}{
		{"fifo", unix.EPERM},
		{"chardev", unix.EPERM},
		{"sock", unix.ENXIO},
		{"link", unix.ELOOP},
	} {
		n := e.walk(tc.path)
		for _, fl := range []int{unix.O_RDONLY, unix.O_WRONLY, unix.O_RDWR} {
			withTimeout(t, "open "+tc.path, 5*time.Second, func() {
				fd, err := e.c.Open(n, fl)
				if fd >= 0 {
					unix.Close(fd)
				}
				wantErrno(t, fmt.Sprintf("open %s %#x", tc.path, fl), err, tc.errno)
			})
		}
	}
}

func (s *suite) testCreate(t *testing.T, e *env) {
	d := e.walk("dir")
	old := unix.Umask(0o077) // the server must not let its umask interfere
	defer unix.Umask(old)
	n, fd, err := e.c.Create(d, "new", unix.O_RDWR, 0o664, 1234, 5678)
	must(t, err)
	if _, err := unix.Pwrite(fd, []byte("created"), 0); err != nil {
		t.Errorf("write to created FD: %v", err)
	}
	unix.Close(fd)
	st := lstat(t, e.host("dir/new"))
	if st.Uid != 1234 || st.Gid != 5678 || st.Mode != unix.S_IFREG|0o664 || st.Size != 7 {
		t.Errorf("created file: uid %d gid %d mode %#o size %d", st.Uid, st.Gid, st.Mode, st.Size)
	}
	if !n.IsRegular() || n.Stat.Ino != st.Ino || n.Stat.UID != 1234 {
		t.Errorf("create node %+v", n)
	}
	// The node works like a walked one.
	fd, err = e.c.Open(n, unix.O_RDONLY)
	must(t, err)
	unix.Close(fd)

	// Set-ID bits survive the chown to a non-root owner.
	n2, fd, err := e.c.Create(d, "setid", unix.O_WRONLY, 0o6755, 1000, 1000)
	must(t, err)
	unix.Close(fd)
	if st := lstat(t, e.host("dir/setid")); st.Mode != unix.S_IFREG|0o6755 || n2.Stat.Mode != st.Mode {
		t.Errorf("setid file mode %#o (node %#o)", st.Mode, n2.Stat.Mode)
	}

	_, fd, err = e.c.Create(d, "new", unix.O_RDWR, 0o644, 0, 0)
	if fd >= 0 {
		unix.Close(fd)
	}
	wantErrno(t, "create existing", err, unix.EEXIST)
	// O_EXCL semantics also for a dangling symlink: never created through.
	_, fd, err = e.c.Create(e.c.Root(), "escape", unix.O_RDWR, 0o644, 0, 0)
	if fd >= 0 {
		unix.Close(fd)
	}
	wantErrno(t, "create over symlink", err, unix.EEXIST)
	_, fd, err = e.c.Create(e.walk("file"), "x", unix.O_RDWR, 0o644, 0, 0)
	if fd >= 0 {
		unix.Close(fd)
	}
	wantErrno(t, "create in a file", err, unix.ENOTDIR)
}

func (s *suite) testMkdir(t *testing.T, e *env) {
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	n, err := e.c.Mkdir(e.c.Root(), "newdir", 0o1775, 1000, 1001)
	must(t, err)
	st := lstat(t, e.host("newdir"))
	if st.Mode != unix.S_IFDIR|0o1775 || st.Uid != 1000 || st.Gid != 1001 {
		t.Errorf("mkdir: mode %#o uid %d gid %d", st.Mode, st.Uid, st.Gid)
	}
	if !n.IsDir() || n.Stat.Ino != st.Ino {
		t.Errorf("mkdir node %+v", n)
	}
	// Usable as a directory node at once.
	_, fd, err := e.c.Create(n, "inside", unix.O_RDWR, 0o600, 0, 0)
	must(t, err)
	unix.Close(fd)
	_, err = e.c.Mkdir(e.c.Root(), "newdir", 0o755, 0, 0)
	wantErrno(t, "mkdir existing", err, unix.EEXIST)
	_, err = e.c.Mkdir(e.c.Root(), "link", 0o755, 0, 0)
	wantErrno(t, "mkdir over symlink", err, unix.EEXIST)
	_, err = e.c.Mkdir(e.walk("file"), "x", 0o755, 0, 0)
	wantErrno(t, "mkdir in a file", err, unix.ENOTDIR)
}

func (s *suite) testMknod(t *testing.T, e *env) {
	n, err := e.c.Mknod(e.c.Root(), "newfifo", unix.S_IFIFO|0o640, 1000, 1000)
	must(t, err)
	st := lstat(t, e.host("newfifo"))
	if st.Mode != unix.S_IFIFO|0o640 || st.Uid != 1000 || n.Stat.Mode != st.Mode {
		t.Errorf("mknod fifo: mode %#o uid %d", st.Mode, st.Uid)
	}
	_, err = e.c.Mknod(e.c.Root(), "newreg", unix.S_IFREG|0o600, 0, 0)
	must(t, err)
	if st := lstat(t, e.host("newreg")); st.Mode != unix.S_IFREG|0o600 {
		t.Errorf("mknod regular: mode %#o", st.Mode)
	}
	// A socket node is a placeholder: it exists on the host, but nothing
	// listens on it.
	_, err = e.c.Mknod(e.c.Root(), "newsock", unix.S_IFSOCK|0o755, 1000, 1000)
	must(t, err)
	if st := lstat(t, e.host("newsock")); st.Mode != unix.S_IFSOCK|0o755 || st.Uid != 1000 {
		t.Errorf("mknod socket: mode %#o uid %d", st.Mode, st.Uid)
	}
	if fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err == nil && len(e.host("newsock")) < 100 {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: e.host("newsock")})
		unix.Close(fd)
		wantErrno(t, "connect to a socket node", err, unix.ECONNREFUSED)
	}
	for _, mode := range []uint32{unix.S_IFCHR | 0o666, unix.S_IFBLK | 0o666} {
		_, err = e.c.Mknod(e.c.Root(), "dev", mode, 0, 0)
		wantErrno(t, fmt.Sprintf("mknod %#o", mode), err, unix.EPERM)
	}
	if _, err := os.Lstat(e.host("dev")); err == nil {
		t.Error("a device node was created")
	}
	_, err = e.c.Mknod(e.c.Root(), "newfifo", unix.S_IFIFO|0o640, 0, 0)
	wantErrno(t, "mknod existing", err, unix.EEXIST)
}

func (s *suite) testSymlink(t *testing.T, e *env) {
	n, err := e.c.Symlink(e.c.Root(), "sl", "/does/not/matter", 1000, 1002)
	must(t, err)
	st := lstat(t, e.host("sl"))
	if st.Mode&unix.S_IFMT != unix.S_IFLNK || st.Uid != 1000 || st.Gid != 1002 || !n.IsSymlink() {
		t.Errorf("symlink: mode %#o uid %d gid %d", st.Mode, st.Uid, st.Gid)
	}
	if target, err := e.c.Readlink(n); err != nil || target != "/does/not/matter" {
		t.Errorf("readlink: %q, %v", target, err)
	}
	if target, _ := os.Readlink(e.host("sl")); target != "/does/not/matter" {
		t.Errorf("host readlink: %q", target)
	}
	_, err = e.c.Symlink(e.c.Root(), "sl", "x", 0, 0)
	wantErrno(t, "symlink existing", err, unix.EEXIST)
	_, err = e.c.Symlink(e.c.Root(), "empty-target", "", 0, 0)
	wantErrno(t, "symlink to empty", err, unix.ENOENT)
	_, err = e.c.Readlink(e.walk("file"))
	wantErrno(t, "readlink regular file", err, unix.EINVAL)
	long := strings.Repeat("a/", proto.SymlinkMax/2) + "a"
	if len(long) != proto.SymlinkMax {
		t.Fatalf("test bug: %d", len(long))
	}
	ln, err := e.c.Symlink(e.c.Root(), "long", long, 0, 0)
	must(t, err)
	if target, err := e.c.Readlink(ln); err != nil || target != long {
		t.Errorf("readlink long: %d bytes, %v", len(target), err)
	}
}

func (s *suite) testLink(t *testing.T, e *env) {
	f := e.walk("dir/file")
	n, err := e.c.Link(e.walk("empty"), "hard", f)
	must(t, err)
	st := lstat(t, e.host("empty/hard"))
	if st.Ino != f.Stat.Ino || st.Nlink != 2 || n.Stat.Ino != f.Stat.Ino || n.Stat.Nlink != 2 {
		t.Errorf("link: ino %d nlink %d, node %+v", st.Ino, st.Nlink, n.Stat)
	}
	_, err = e.c.Link(e.c.Root(), "dirlink", e.walk("dir"))
	wantErrno(t, "link a directory", err, unix.EPERM)
	_, err = e.c.Link(e.c.Root(), "file", f)
	wantErrno(t, "link over existing", err, unix.EEXIST)
}

func (s *suite) testUnlink(t *testing.T, e *env) {
	root := e.c.Root()
	must(t, e.c.Unlink(root, "file", 0))
	if _, err := os.Lstat(e.host("file")); !os.IsNotExist(err) {
		t.Errorf("file still there: %v", err)
	}
	wantErrno(t, "unlink missing", e.c.Unlink(root, "file", 0), unix.ENOENT)
	wantErrno(t, "rmdir non-empty", e.c.Unlink(root, "dir", unix.AT_REMOVEDIR), unix.ENOTEMPTY)
	wantErrno(t, "unlink a directory", e.c.Unlink(root, "dir", 0), unix.EISDIR)
	wantErrno(t, "rmdir a file", e.c.Unlink(e.walk("dir"), "file", unix.AT_REMOVEDIR), unix.ENOTDIR)
	wantErrno(t, "unlink bad flags", e.c.Unlink(root, "dir", 0x1), unix.EINVAL)
	must(t, e.c.Unlink(root, "empty", unix.AT_REMOVEDIR))
	// Unlinking a symlink removes the link, not its target.
	must(t, e.c.Unlink(root, "escape", 0))
	if _, err := os.Stat(filepath.Join(e.outside, "secret")); err != nil {
		t.Errorf("symlink target outside the root: %v", err)
	}
	// Open nodes of unlinked files keep working (they hold the inode).
	f := e.walk("dir/file")
	must(t, e.c.Unlink(e.walk("dir"), "file", 0))
	if st, err := e.c.Stat(f); err != nil || st.Nlink != 0 {
		t.Errorf("stat unlinked: nlink %d, %v", st.Nlink, err)
	}
	if !s.opts.UnstableAcrossRename {
		fd, err := e.c.Open(f, unix.O_RDONLY)
		must(t, err)
		unix.Close(fd)
	}
}

func (s *suite) testRename(t *testing.T, e *env) {
	root, dir := e.c.Root(), e.walk("dir")
	f := e.walk("file")
	must(t, e.c.Rename(root, "file", dir, "renamed", 0))
	if b, err := os.ReadFile(e.host("dir/renamed")); err != nil || string(b) != "root file" {
		t.Errorf("renamed: %q, %v", b, err)
	}
	wantErrno(t, "rename missing", e.c.Rename(root, "file", dir, "x", 0), unix.ENOENT)
	wantErrno(t, "rename NOREPLACE", e.c.Rename(dir, "renamed", dir, "file", unix.RENAME_NOREPLACE), unix.EEXIST)
	must(t, e.c.Rename(dir, "renamed", dir, "file", unix.RENAME_EXCHANGE))
	if b, _ := os.ReadFile(e.host("dir/file")); string(b) != "root file" {
		t.Errorf("after exchange dir/file = %q", b)
	}
	if b, _ := os.ReadFile(e.host("dir/renamed")); string(b) != dirFileContent {
		t.Errorf("after exchange dir/renamed = %q", b)
	}
	wantErrno(t, "rename both flags", e.c.Rename(dir, "file", dir, "renamed", unix.RENAME_EXCHANGE|unix.RENAME_NOREPLACE), unix.EINVAL)
	wantErrno(t, "rename whiteout", e.c.Rename(dir, "file", dir, "renamed", unix.RENAME_WHITEOUT), unix.EINVAL)
	wantErrno(t, "rename dir over non-empty dir", e.c.Rename(root, "empty", root, "dir", 0), unix.ENOTEMPTY)
	wantErrno(t, "rename file over dir", e.c.Rename(dir, "file", root, "empty", 0), unix.EISDIR)
	wantErrno(t, "rename dir over file", e.c.Rename(root, "empty", dir, "file", 0), unix.ENOTDIR)
	wantErrno(t, "rename into a file", e.c.Rename(root, "link", e.walk("dir/file"), "x", 0), unix.ENOTDIR)

	// The node of a renamed file still names it.
	st, err := e.c.Stat(f)
	must(t, err)
	if st.Ino != f.Stat.Ino {
		t.Errorf("renamed node ino %d, want %d", st.Ino, f.Stat.Ino)
	}
	if !s.opts.UnstableAcrossRename {
		fd, err := e.c.Open(f, unix.O_RDONLY)
		must(t, err)
		b := make([]byte, 64)
		n, _ := unix.Pread(fd, b, 0)
		unix.Close(fd)
		if string(b[:n]) != "root file" {
			t.Errorf("open renamed node read %q", b[:n])
		}
	}
}

func (s *suite) testGetdents(t *testing.T, e *env) {
	got := func(n client.Node) map[string]uint8 {
		t.Helper()
		ents, err := e.c.Getdents(n)
		must(t, err)
		m := map[string]uint8{}
		for _, d := range ents {
			if _, dup := m[d.Name]; dup {
				t.Errorf("duplicate entry %q", d.Name)
			}
			m[d.Name] = d.Type
		}
		return m
	}
	m := got(e.c.Root())
	want := map[string]uint8{
		"dir": unix.DT_DIR, "file": unix.DT_REG, "empty": unix.DT_DIR, "link": unix.DT_LNK,
		"escape": unix.DT_LNK, "relescape": unix.DT_LNK, "fifo": unix.DT_FIFO, "chardev": unix.DT_CHR,
		"sock": unix.DT_SOCK,
	}
	if len(m) != len(want) {
		t.Errorf("root listing %v, want %v", m, want)
	}
	for name, typ := range want {
		if m[name] != typ {
			t.Errorf("entry %q type %d, want %d", name, m[name], typ)
		}
	}
	if len(got(e.walk("empty"))) != 0 {
		t.Error("empty directory not empty")
	}
	_, err := e.c.Getdents(e.walk("file"))
	wantErrno(t, "getdents on a file", err, unix.ENOTDIR)

	// A directory far larger than one reply.
	big := e.host("empty")
	const count = 3000
	names := make([]string, count)
	for i := range names {
		names[i] = fmt.Sprintf("%04d-%s", i, strings.Repeat("n", 200))
		must(t, os.WriteFile(filepath.Join(big, names[i]), nil, 0o644))
	}
	m = got(e.walk("empty"))
	if len(m) != count {
		t.Fatalf("big directory: %d entries, want %d", len(m), count)
	}
	var missing []string
	for _, n := range names {
		if m[n] != unix.DT_REG {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d entries missing, first %q", len(missing), missing[0][:10])
	}
}

func (s *suite) testSetStat(t *testing.T, e *env) {
	f := e.walk("dir/file")
	st, err := e.c.SetStat(f, proto.SetAttr{Mask: proto.SetStatMode, Mode: 0o4751})
	must(t, err)
	if h := lstat(t, e.host("dir/file")); h.Mode != unix.S_IFREG|0o4751 || st.Mode != h.Mode {
		t.Errorf("chmod: host %#o, reply %#o", h.Mode, st.Mode)
	}
	st, err = e.c.SetStat(f, proto.SetAttr{Mask: proto.SetStatUID | proto.SetStatGID | proto.SetStatMode, UID: 2000, GID: 3000, Mode: 0o2755})
	must(t, err)
	if h := lstat(t, e.host("dir/file")); h.Uid != 2000 || h.Gid != 3000 || h.Mode != unix.S_IFREG|0o2755 {
		t.Errorf("chown+chmod: uid %d gid %d mode %#o", h.Uid, h.Gid, h.Mode)
	}
	st, err = e.c.SetStat(f, proto.SetAttr{Mask: proto.SetStatGID, GID: 3001})
	must(t, err)
	if st.UID != 2000 || st.GID != 3001 {
		t.Errorf("chgrp only: uid %d gid %d", st.UID, st.GID)
	}
	st, err = e.c.SetStat(f, proto.SetAttr{Mask: proto.SetStatSize, Size: 5})
	must(t, err)
	if b, _ := os.ReadFile(e.host("dir/file")); string(b) != "hello" || st.Size != 5 {
		t.Errorf("truncate: %q, size %d", b, st.Size)
	}
	st, err = e.c.SetStat(f, proto.SetAttr{Mask: proto.SetStatSize, Size: 1 << 20})
	must(t, err)
	if st.Size != 1<<20 {
		t.Errorf("extend: size %d", st.Size)
	}
	at, mt := proto.Timespec{Sec: 1_000_000_000, Nsec: 123456789}, proto.Timespec{Sec: 1_500_000_000, Nsec: 987654321}
	st, err = e.c.SetStat(f, proto.SetAttr{Mask: proto.SetStatAtime | proto.SetStatMtime, Atime: at, Mtime: mt})
	must(t, err)
	h := lstat(t, e.host("dir/file"))
	if st.Atime != at || st.Mtime != mt || h.Mtim.Sec != mt.Sec || h.Mtim.Nsec != mt.Nsec {
		t.Errorf("utimes: reply %v %v, host mtime %v", st.Atime, st.Mtime, h.Mtim)
	}
	// UTIME_OMIT leaves a time alone; UTIME_NOW sets the current time.
	st, err = e.c.SetStat(f, proto.SetAttr{Mask: proto.SetStatAtime | proto.SetStatMtime,
		Atime: proto.Timespec{Nsec: proto.UtimeOmit}, Mtime: proto.Timespec{Nsec: proto.UtimeNow}})
	must(t, err)
	if st.Atime != at || st.Mtime.Sec < time.Now().Unix()-60 {
		t.Errorf("UTIME_OMIT/NOW: atime %v mtime %v", st.Atime, st.Mtime)
	}
	// Directories and special files.
	d := e.walk("dir")
	_, err = e.c.SetStat(d, proto.SetAttr{Mask: proto.SetStatSize})
	wantErrno(t, "truncate a directory", err, unix.EISDIR)
	st, err = e.c.SetStat(d, proto.SetAttr{Mask: proto.SetStatMode, Mode: 0o700})
	must(t, err)
	if h := lstat(t, e.host("dir")); h.Mode != unix.S_IFDIR|0o700 {
		t.Errorf("chmod dir: %#o", h.Mode)
	}
	fifo := e.walk("fifo")
	withTimeout(t, "chmod fifo", 5*time.Second, func() {
		_, err = e.c.SetStat(fifo, proto.SetAttr{Mask: proto.SetStatMode | proto.SetStatMtime, Mode: 0o600, Mtime: proto.Timespec{Sec: 5}})
	})
	must(t, err)
	if h := lstat(t, e.host("fifo")); h.Mode != unix.S_IFIFO|0o600 || h.Mtim.Sec != 5 {
		t.Errorf("chmod fifo: %#o mtime %d", h.Mode, h.Mtim.Sec)
	}
	_, err = e.c.SetStat(fifo, proto.SetAttr{Mask: proto.SetStatSize})
	wantErrno(t, "truncate fifo", err, unix.EINVAL)
	dev := e.walk("chardev")
	_, err = e.c.SetStat(dev, proto.SetAttr{Mask: proto.SetStatMode, Mode: 0o600})
	must(t, err)
	if h := lstat(t, e.host("chardev")); h.Mode != unix.S_IFCHR|0o600 {
		t.Errorf("chmod chardev: %#o", h.Mode)
	}
}

func (s *suite) testStatFS(t *testing.T, e *env) {
	got, err := e.c.StatFS(e.walk("dir/file"))
	must(t, err)
	var want unix.Statfs_t
	must(t, unix.Statfs(e.root, &want))
	if got.Type != uint64(want.Type) || got.Bsize != uint64(want.Bsize) || got.Blocks != want.Blocks ||
		got.Namelen != uint64(want.Namelen) || got.Files != want.Files {
		t.Errorf("statfs %+v, host %+v", got, want)
	}
}

func (s *suite) testCloseNodes(t *testing.T, e *env) {
	a, b := e.walk("dir"), e.walk("dir/file")
	must(t, e.c.CloseNodes(a, b))
	_, err := e.c.Stat(a)
	wantErrno(t, "stat closed node", err, unix.EBADF)
	_, err = e.c.Walk(a, []string{"file"})
	wantErrno(t, "walk closed node", err, unix.EBADF)
	wantErrno(t, "close twice", e.c.CloseNodes(b), unix.EBADF)
	_, err = e.c.Stat(client.Node{ID: 1 << 60})
	wantErrno(t, "stat unknown node", err, unix.EBADF)
	// A closed ancestor does not affect nodes walked through it.
	d := e.walk("dir")
	nodes, err := e.c.Walk(d, []string{"file"})
	must(t, err)
	must(t, e.c.CloseNodes(d))
	fd, err := e.c.Open(nodes[0], unix.O_RDONLY)
	must(t, err)
	unix.Close(fd)
}

func (s *suite) testConcurrency(t *testing.T, e *env) {
	const workers, iters = 32, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				nodes, err := e.c.Walk(e.c.Root(), []string{"dir", "file"})
				if err != nil {
					errs <- err
					return
				}
				if len(nodes) != 2 || nodes[1].Stat.Size != int64(len(dirFileContent)) {
					errs <- fmt.Errorf("walk: %+v", nodes)
					return
				}
				if i%10 == 0 {
					fd, err := e.c.Open(nodes[1], unix.O_RDONLY)
					if err != nil {
						errs <- err
						return
					}
					unix.Close(fd)
				}
				if err := e.c.CloseNodes(nodes...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	withTimeout(t, "concurrent walks", 60*time.Second, wg.Wait)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func (s *suite) testServerDeath(t *testing.T, e *env) {
	// Calls in flight when the server dies, and calls after, fail with
	// EIO; none hangs.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	results := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					results <- nil
					return
				default:
				}
				nodes, err := e.c.Walk(e.c.Root(), []string{"dir"})
				if err != nil {
					results <- err
					return
				}
				e.c.CloseNodes(nodes...)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	e.kill()
	withTimeout(t, "calls after server death", 10*time.Second, func() {
		wg.Wait()
		_, err := e.c.Stat(e.c.Root())
		if !errors.Is(err, unix.EIO) || !errors.Is(err, client.ErrDisconnected) {
			t.Errorf("stat after server death: %v, want EIO/ErrDisconnected", err)
		}
		fd, err := e.c.Open(e.c.Root(), unix.O_RDONLY)
		if fd >= 0 || !errors.Is(err, unix.EIO) {
			t.Errorf("open after server death: %d, %v", fd, err)
		}
	})
	close(stop)
	for w := 0; w < 8; w++ {
		if err := <-results; err != nil && !errors.Is(err, unix.EIO) {
			t.Errorf("in-flight call: %v, want EIO", err)
		}
	}
}

func (s *suite) testReadOnly(t *testing.T, e *env) {
	if !e.c.ReadOnly() {
		t.Error("read-only server does not report it at mount")
	}
	root, f, d := e.c.Root(), e.walk("dir/file"), e.walk("dir")
	fd, err := e.c.Open(f, unix.O_RDONLY)
	must(t, err)
	unix.Close(fd)
	if ents, err := e.c.Getdents(d); err != nil || len(ents) != 1 {
		t.Errorf("getdents: %v, %v", ents, err)
	}
	for _, fl := range []int{unix.O_WRONLY, unix.O_RDWR, unix.O_RDONLY | unix.O_TRUNC, unix.O_WRONLY | unix.O_APPEND} {
		fd, err := e.c.Open(f, fl)
		if fd >= 0 {
			unix.Close(fd)
		}
		wantErrno(t, fmt.Sprintf("open %#x", fl), err, unix.EROFS)
	}
	_, fd, err = e.c.Create(root, "new", unix.O_RDWR, 0o644, 0, 0)
	if fd >= 0 {
		unix.Close(fd)
	}
	wantErrno(t, "create", err, unix.EROFS)
	_, err = e.c.Mkdir(root, "new", 0o755, 0, 0)
	wantErrno(t, "mkdir", err, unix.EROFS)
	_, err = e.c.Mknod(root, "new", unix.S_IFIFO|0o644, 0, 0)
	wantErrno(t, "mknod", err, unix.EROFS)
	_, err = e.c.Symlink(root, "new", "x", 0, 0)
	wantErrno(t, "symlink", err, unix.EROFS)
	_, err = e.c.Link(root, "new", f)
	wantErrno(t, "link", err, unix.EROFS)
	wantErrno(t, "unlink", e.c.Unlink(d, "file", 0), unix.EROFS)
	wantErrno(t, "rmdir", e.c.Unlink(root, "empty", unix.AT_REMOVEDIR), unix.EROFS)
	wantErrno(t, "rename", e.c.Rename(root, "file", root, "new", 0), unix.EROFS)
	for _, mask := range []uint32{proto.SetStatMode, proto.SetStatUID, proto.SetStatSize, proto.SetStatMtime} {
		_, err = e.c.SetStat(f, proto.SetAttr{Mask: mask, Mode: 0o777})
		wantErrno(t, fmt.Sprintf("setstat %#x", mask), err, unix.EROFS)
	}
	// Nothing changed.
	if b, _ := os.ReadFile(e.host("dir/file")); !bytes.Equal(b, []byte(dirFileContent)) {
		t.Errorf("file changed: %q", b)
	}
	if h := lstat(t, e.host("dir/file")); h.Mode != unix.S_IFREG|0o644 {
		t.Errorf("mode changed: %#o", h.Mode)
	}
	if _, err := os.Lstat(e.host("new")); err == nil {
		t.Error("read-only server created a file")
	}
}
