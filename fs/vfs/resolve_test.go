package vfs_test

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

type env struct {
	t    *testing.T
	v    *vfs.VirtualFilesystem
	root vfs.VirtualDentry
	fsc  *vfs.FSContext
	ctx  vfs.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	v := vfs.New()
	fs, err := tmpfs.New(v, tmpfs.Options{Mode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	root, err := v.MountRoot(fs, vfs.MountFlags{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, v: v, root: root, fsc: vfs.NewFSContext(root, root), ctx: vfs.CredsContext(auth.NewRootCredentials())}
	return e
}

func (e *env) mkdir(p string, mode uint32) {
	e.t.Helper()
	if err := e.v.MkdirAt(e.ctx, e.fsc, nil, p, mode); err != nil {
		e.t.Fatalf("mkdir %s: %v", p, err)
	}
}

func (e *env) file(p, data string) {
	e.t.Helper()
	fd, err := e.v.Open(e.ctx, e.fsc, nil, p, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, 0o644)
	if err != nil {
		e.t.Fatalf("create %s: %v", p, err)
	}
	defer fd.DecRef()
	if _, err := fd.Write(e.ctx, []byte(data)); err != nil {
		e.t.Fatalf("write %s: %v", p, err)
	}
}

func (e *env) symlink(target, p string) {
	e.t.Helper()
	if err := e.v.SymlinkAt(e.ctx, e.fsc, nil, p, target); err != nil {
		e.t.Fatalf("symlink %s: %v", p, err)
	}
}

func (e *env) ino(p string) uint64 {
	e.t.Helper()
	st, err := e.v.StatAt(e.ctx, e.fsc, nil, p, true)
	if err != nil {
		e.t.Fatalf("stat %s: %v", p, err)
	}
	return st.Ino
}

func errno(err error) unix.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}

func TestResolution(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/a", 0o755)
	e.mkdir("/a/b", 0o755)
	e.file("/a/f", "hello")
	e.symlink("b", "/a/lb")
	e.symlink("/a/f", "/a/labs")
	e.symlink("loop2", "/loop1")
	e.symlink("loop1", "/loop2")
	e.symlink("self", "/self")
	e.symlink("nowhere", "/dangling")
	if err := e.v.SymlinkAt(e.ctx, e.fsc, nil, "/empty", ""); errno(err) != unix.ENOENT {
		t.Errorf("symlink with empty target = %v, want ENOENT", err)
	}
	for i := 0; i <= 41; i++ {
		target := "/a/f"
		if i > 0 {
			target = "c" + itoa(i-1)
		}
		e.symlink(target, "/c"+itoa(i))
	}
	long := strings.Repeat("n", 256)

	tests := []struct {
		path   string
		follow bool
		want   unix.Errno
		sameAs string
	}{
		{"/", true, 0, "/"},
		{"/..", true, 0, "/"},
		{"/../../..", true, 0, "/"},
		{"..", true, 0, "/"},
		{"/a/b/..", true, 0, "/a"},
		{"/a/./b/../.", true, 0, "/a"},
		{"//a//b", true, 0, "/a/b"},
		{"/a/b/", true, 0, "/a/b"},
		{"/a/f/", true, unix.ENOTDIR, ""},
		{"/a/f/.", true, unix.ENOTDIR, ""},
		{"/a/f/..", true, unix.ENOTDIR, ""},
		{"/a/f/x", true, unix.ENOTDIR, ""},
		{"/a/lb/", false, 0, "/a/b"},
		{"/a/lb", true, 0, "/a/b"},
		{"/a/labs", true, 0, "/a/f"},
		{"/a/labs/", true, unix.ENOTDIR, ""},
		{"/loop1", true, unix.ELOOP, ""},
		{"/loop1/x", true, unix.ELOOP, ""},
		{"/self", true, unix.ELOOP, ""},
		{"/self", false, 0, ""},
		{"/dangling", true, unix.ENOENT, ""},
		{"/dangling", false, 0, ""},
		{"/c39", true, 0, "/a/f"},
		{"/c40", true, unix.ELOOP, ""},
		{"/missing", true, unix.ENOENT, ""},
		{"/" + long, true, unix.ENAMETOOLONG, ""},
		{"/" + long + "/x", true, unix.ENAMETOOLONG, ""},
		{"", true, unix.ENOENT, ""},
	}
	for _, tc := range tests {
		st, err := e.v.StatAt(e.ctx, e.fsc, nil, tc.path, tc.follow)
		if got := errno(err); got != tc.want {
			t.Errorf("stat(%.40q, follow=%v) = %v, want %v", tc.path, tc.follow, got, tc.want)
			continue
		}
		if tc.sameAs != "" && st.Ino != e.ino(tc.sameAs) {
			t.Errorf("stat(%q) is not %q", tc.path, tc.sameAs)
		}
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestOpenFlags(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d", 0o755)
	e.file("/f", "x")
	e.symlink("f", "/ln")
	e.symlink("nothere", "/dangling")
	tests := []struct {
		path  string
		flags uint32
		want  unix.Errno
	}{
		{"/f", unix.O_RDONLY, 0},
		{"/f/", unix.O_RDONLY, unix.ENOTDIR},
		{"/f", unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOTDIR},
		{"/ln", unix.O_RDONLY | unix.O_NOFOLLOW, unix.ELOOP},
		{"/ln", unix.O_PATH | unix.O_NOFOLLOW, 0},
		{"/ln", unix.O_RDONLY, 0},
		{"/d", unix.O_WRONLY, unix.EISDIR},
		{"/d", unix.O_RDONLY | unix.O_TRUNC, unix.EISDIR},
		{"/d", unix.O_RDONLY, 0},
		{"/d", unix.O_CREAT | unix.O_RDONLY, unix.EISDIR},
		{"/new/", unix.O_CREAT | unix.O_WRONLY, unix.EISDIR},
		{"/f", unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, unix.EEXIST},
		{"/dangling", unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, unix.EEXIST},
		{"/nodir/x", unix.O_CREAT | unix.O_WRONLY, unix.ENOENT},
		{"/created", unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, 0},
		{"/dangling", unix.O_CREAT | unix.O_WRONLY, 0}, // creates "nothere"
		{"/", unix.O_CREAT | unix.O_WRONLY, unix.EISDIR},
	}
	for _, tc := range tests {
		fd, err := e.v.Open(e.ctx, e.fsc, nil, tc.path, tc.flags, 0o644)
		if got := errno(err); got != tc.want {
			t.Errorf("open(%q, %#x) = %v, want %v", tc.path, tc.flags, got, tc.want)
		}
		if fd != nil {
			fd.DecRef()
		}
	}
	if _, err := e.v.StatAt(e.ctx, e.fsc, nil, "/nothere", false); err != nil {
		t.Errorf("O_CREAT through a dangling symlink did not create the target: %v", err)
	}
}

func TestMountsAndChroot(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/mnt", 0o755)
	e.mkdir("/jail", 0o755)
	e.mkdir("/jail/inner", 0o755)
	e.file("/jail/inner/secret", "s")
	fs2, err := tmpfs.New(e.v, tmpfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Mount(e.ctx, e.fsc, "/mnt", fs2, vfs.MountFlags{}); err != nil {
		t.Fatal(err)
	}
	e.mkdir("/mnt/sub", 0o755)
	st1, _ := e.v.StatAt(e.ctx, e.fsc, nil, "/mnt", true)
	st2, _ := e.v.StatAt(e.ctx, e.fsc, nil, "/", true)
	if st1.Dev == st2.Dev {
		t.Errorf("mounted filesystem has the same st_dev as the root")
	}
	if e.ino("/mnt/sub/../..") != e.ino("/") {
		t.Errorf("/mnt/sub/../.. is not /")
	}
	if e.ino("/mnt/..") != e.ino("/") {
		t.Errorf("/mnt/.. did not cross to the parent mount")
	}
	fd, err := e.v.Open(e.ctx, e.fsc, nil, "/mnt/sub", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p := fd.Path(); p != "/mnt/sub" {
		t.Errorf("Path() = %q, want /mnt/sub", p)
	}
	fd.DecRef()
	if err := e.v.RenameAt(e.ctx, e.fsc, nil, "/mnt/sub", nil, "/x", 0); errno(err) != unix.EXDEV {
		t.Errorf("rename across mounts = %v, want EXDEV", err)
	}
	if err := e.v.RmdirAt(e.ctx, e.fsc, nil, "/mnt"); errno(err) != unix.EBUSY {
		t.Errorf("rmdir mount point = %v, want EBUSY", err)
	}

	// chroot to /jail: ".." stops there and absolute paths start there.
	jail, err := e.v.ResolvePath(e.ctx, e.fsc, nil, "/jail", true)
	if err != nil {
		t.Fatal(err)
	}
	jfsc := vfs.NewFSContext(jail, jail)
	e.symlink("/inner/secret", "/jail/abs")
	for _, p := range []string{"/..", "../..", "/inner/../..", "/inner/secret", "abs"} {
		if _, err := e.v.StatAt(e.ctx, jfsc, nil, p, true); err != nil {
			t.Errorf("in jail: stat %q: %v", p, err)
		}
	}
	st, _ := e.v.StatAt(e.ctx, jfsc, nil, "/../../", true)
	if st.Ino != e.ino("/jail") {
		t.Errorf("'..' escaped the chroot")
	}
	if _, err := e.v.StatAt(e.ctx, jfsc, nil, "/jail", true); errno(err) != unix.ENOENT {
		t.Errorf("in jail: /jail visible: %v", err)
	}
	cwd := jfsc.Cwd()
	if p, ok := e.v.PathName(jfsc.Root(), cwd); p != "/" || !ok {
		t.Errorf("PathName in jail = %q %v", p, ok)
	}
}

func TestPermissions(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/priv", 0o700)
	e.file("/priv/f", "x")
	e.mkdir("/pub", 0o755)
	e.file("/pub/ro", "x")
	e.mkdir("/tmp", 0o777)
	if err := e.v.SetStatAt(e.ctx, e.fsc, nil, "/tmp", true, vfs.SetStat{Mask: unix.STATX_MODE, Mode: 0o1777}); err != nil {
		t.Fatal(err)
	}
	e.file("/tmp/rootfile", "x")
	user := vfs.CredsContext(auth.NewUserCredentials(1000, 1000, nil))
	tests := []struct {
		name string
		op   func() error
		want unix.Errno
	}{
		{"search denied", func() error { _, err := e.v.StatAt(user, e.fsc, nil, "/priv/f", true); return err }, unix.EACCES},
		{"stat dir itself", func() error { _, err := e.v.StatAt(user, e.fsc, nil, "/priv", true); return err }, 0},
		{"write denied", func() error {
			fd, err := e.v.Open(user, e.fsc, nil, "/pub/ro", unix.O_WRONLY, 0)
			if fd != nil {
				fd.DecRef()
			}
			return err
		}, unix.EACCES},
		{"read allowed", func() error {
			fd, err := e.v.Open(user, e.fsc, nil, "/pub/ro", unix.O_RDONLY, 0)
			if fd != nil {
				fd.DecRef()
			}
			return err
		}, 0},
		{"create denied", func() error { return e.v.MkdirAt(user, e.fsc, nil, "/pub/x", 0o755) }, unix.EACCES},
		{"chmod not owner", func() error {
			return e.v.SetStatAt(user, e.fsc, nil, "/pub/ro", true, vfs.SetStat{Mask: unix.STATX_MODE, Mode: 0o777})
		}, unix.EPERM},
		{"sticky: unlink other's file", func() error { return e.v.UnlinkAt(user, e.fsc, nil, "/tmp/rootfile") }, unix.EPERM},
		{"sticky: own file", func() error {
			if err := e.v.MknodAt(user, e.fsc, nil, "/tmp/mine", unix.S_IFREG|0o644, 0); err != nil {
				return err
			}
			return e.v.UnlinkAt(user, e.fsc, nil, "/tmp/mine")
		}, 0},
		{"mknod chr needs CAP_MKNOD", func() error {
			return e.v.MknodAt(user, e.fsc, nil, "/tmp/null", unix.S_IFCHR|0o666, unix.Mkdev(1, 3))
		}, unix.EPERM},
	}
	for _, tc := range tests {
		if got := errno(tc.op()); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// The umask applies on create.
	e.fsc.SetUmask(0o077)
	e.file("/masked", "")
	st, _ := e.v.StatAt(e.ctx, e.fsc, nil, "/masked", true)
	if st.Mode&0o777 != 0o600 {
		t.Errorf("umask not applied: mode %o", st.Mode&0o777)
	}
}

func TestRenameAndLinks(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d1", 0o755)
	e.mkdir("/d1/sub", 0o755)
	e.mkdir("/d2", 0o755)
	e.mkdir("/full", 0o755)
	e.file("/full/x", "x")
	e.file("/f", "data")
	tests := []struct {
		old, new string
		flags    uint32
		want     unix.Errno
	}{
		{"/d1", "/d1/sub/in", 0, unix.EINVAL},
		{"/d1/sub", "/d1", 0, unix.ENOTEMPTY},
		{"/d1", "/full", 0, unix.ENOTEMPTY},
		{"/d1", "/f", 0, unix.ENOTDIR},
		{"/f", "/d1", 0, unix.EISDIR},
		{"/f", "/x/", 0, unix.ENOTDIR},
		{"/nope", "/y", 0, unix.ENOENT},
		{"/f", "/full/x", vfs.RenameNoreplace, unix.EEXIST},
		{"/f", "/zz", vfs.RenameExchange, unix.ENOENT},
		{"/f", "/full/x", vfs.RenameExchange, 0},
		{"/d1", "/d2", 0, 0},
		{"/f", "/f", 0, 0},
	}
	for _, tc := range tests {
		if got := errno(e.v.RenameAt(e.ctx, e.fsc, nil, tc.old, nil, tc.new, tc.flags)); got != tc.want {
			t.Errorf("rename(%q, %q, %d) = %v, want %v", tc.old, tc.new, tc.flags, got, tc.want)
		}
	}
	if _, err := e.v.StatAt(e.ctx, e.fsc, nil, "/d2/sub", true); err != nil {
		t.Errorf("moved dir lost its child: %v", err)
	}
	st, _ := e.v.StatAt(e.ctx, e.fsc, nil, "/", true)
	if st.Nlink != 4 { // 2 + the subdirectories d2 and full
		t.Errorf("root nlink = %d, want 4", st.Nlink)
	}
	old, err := e.v.ResolvePath(e.ctx, e.fsc, nil, "/f", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.v.LinkAt(e.ctx, e.fsc, old, nil, "/f2"); err != nil {
		t.Fatal(err)
	}
	st, _ = e.v.StatAt(e.ctx, e.fsc, nil, "/f", true)
	if st.Nlink != 2 {
		t.Errorf("nlink after link = %d", st.Nlink)
	}
	if err := e.v.UnlinkAt(e.ctx, e.fsc, nil, "/f"); err != nil {
		t.Fatal(err)
	}
	st, _ = e.v.StatAt(e.ctx, e.fsc, nil, "/f2", true)
	if st.Nlink != 1 {
		t.Errorf("nlink after unlink = %d", st.Nlink)
	}
	if err := e.v.UnlinkAt(e.ctx, e.fsc, nil, "/d2"); errno(err) != unix.EISDIR {
		t.Errorf("unlink dir = %v, want EISDIR", err)
	}
	if err := e.v.RmdirAt(e.ctx, e.fsc, nil, "/f2"); errno(err) != unix.ENOTDIR {
		t.Errorf("rmdir file = %v, want ENOTDIR", err)
	}
	if err := e.v.RmdirAt(e.ctx, e.fsc, nil, "/d2/sub/."); errno(err) != unix.EINVAL {
		t.Errorf("rmdir . = %v, want EINVAL", err)
	}
}

func TestDeletedCwdAndGetdents(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/gone", 0o755)
	vd, _ := e.v.ResolvePath(e.ctx, e.fsc, nil, "/gone", true)
	e.fsc.SetCwd(vd)
	if err := e.v.RmdirAt(e.ctx, e.fsc, nil, "/gone"); err != nil {
		t.Fatal(err)
	}
	if err := e.v.MkdirAt(e.ctx, e.fsc, nil, "x", 0o755); errno(err) != unix.ENOENT {
		t.Errorf("mkdir in removed cwd = %v, want ENOENT", err)
	}
	e.fsc.SetCwd(e.root)
	for _, n := range []string{"b", "a", "c"} {
		e.file("/"+n, "")
	}
	fd, err := e.v.Open(e.ctx, e.fsc, nil, "/", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	var names []string
	// Read one entry per call to exercise resumption.
	for {
		got := 0
		if err := fd.IterDirents(e.ctx, func(d vfs.Dirent) bool {
			if got == 1 {
				return false
			}
			got++
			names = append(names, d.Name)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if got == 0 {
			break
		}
	}
	if strings.Join(names, ",") != ".,..,b,a,c" {
		t.Errorf("getdents order = %v", names)
	}
}

// jumpLink is a magic link to a fixed position.
type jumpLink struct {
	vfs.InodeAttrs
	to vfs.VirtualDentry
}

func (j *jumpLink) Stat() (vfs.Stat, error)                { return j.StatAttrs(), nil }
func (j *jumpLink) SetStat(vfs.Context, vfs.SetStat) error { return unix.EPERM }
func (j *jumpLink) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ELOOP
}
func (j *jumpLink) Readlink() (string, error)                              { return "/whatever (deleted)", nil }
func (j *jumpLink) Jump() (vfs.VirtualDentry, *vfs.FileDescription, error) { return j.to, nil, nil }

func TestMagicLink(t *testing.T) {
	e := newEnv(t)
	e.file("/target", "data")
	fd, err := e.v.Open(e.ctx, e.fsc, nil, "/target", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	if err := e.v.UnlinkAt(e.ctx, e.fsc, nil, "/target"); err != nil {
		t.Fatal(err)
	}
	if p := fd.Path(); p != "/target (deleted)" {
		t.Errorf("Path of unlinked file = %q", p)
	}
	j := &jumpLink{to: fd.VirtualDentry()}
	j.Init(99, unix.S_IFLNK|0o777, 0, 0, 1, 0)
	e.mkdir("/proc", 0o755)
	procFS, err := e.v.NewFilesystem(&vfs.SimpleFilesystem{FSName: "proc", Magic: 0x9fa0},
		vfs.NewStaticDir(1, 0o555, map[string]vfs.Inode{"fd0": j}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Mount(e.ctx, e.fsc, "/proc", procFS, vfs.MountFlags{}); err != nil {
		t.Fatal(err)
	}
	for _, flags := range []uint32{unix.O_RDONLY, unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC} {
		f2, err := e.v.Open(e.ctx, e.fsc, nil, "/proc/fd0", flags, 0o644)
		if err != nil {
			t.Fatalf("open magic link (%#x): %v", flags, err)
		}
		f2.DecRef()
	}
	if _, err := e.v.StatAt(e.ctx, e.fsc, nil, "/proc/fd0/x", true); errno(err) != unix.ENOTDIR {
		t.Errorf("magic link to a file used as a directory = %v, want ENOTDIR", err)
	}
}
