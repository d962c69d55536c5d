package tmpfs

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
)

// MemfdOptions describe a memfd_create(2) file.
type MemfdOptions struct {
	// Name is the name the caller gave (shown as /memfd:Name).
	Name string
	// Mode, UID and GID are the new inode's (S_IFREG is added).
	Mode     uint32
	UID, GID uint32
	// Seals are the initial seals: SealSeal unless sealing is allowed.
	Seals uint32
}

// NewMemfd returns an open description (O_RDWR, no dentry) of a new
// unnamed regular file of fs, as memfd_create(2) makes on the kernel's
// internal shmem mount (memfd_alloc_file()): its data goes away with its
// last description or mapping.
func (fs *Filesystem) NewMemfd(o MemfdOptions) *vfs.FileDescription {
	f := fs.newRegular(vfs.CreateOptions{Mode: unix.S_IFREG | o.Mode&0o7777, UID: o.UID, GID: o.GID})
	f.anon = true
	f.seals = o.Seals
	f.users = 1
	// Unlinked from the start: fstat shows no links.
	f.AddLinkLocked(-1)
	impl := &memfdFD{regularFD: regularFD{f: f}, name: o.Name}
	return vfs.NewAnonFile(impl, unix.O_RDWR|unix.O_LARGEFILE, vfs.FileOptions{})
}

// memfdFD is an open memfd: a tmpfs regular file without a dentry, which
// answers fstat and fchmod itself and names itself in /proc/PID/fd and
// /proc/PID/maps.
type memfdFD struct {
	regularFD
	// name is immutable.
	name string
}

var (
	_ vfs.FileStater = (*memfdFD)(nil)
	_ vfs.Namer      = (*memfdFD)(nil)
)

// Name implements vfs.Namer: the d_dname of a memfd (simple_dname() of a
// pseudo dentry named "memfd:NAME").
func (m *memfdFD) Name() string { return "/memfd:" + m.name + " (deleted)" }

// Stat implements vfs.FileStater.
func (m *memfdFD) Stat() (vfs.Stat, error) {
	st, err := m.f.Stat()
	if err == nil && m.f.fs.vfsfs != nil {
		st.Dev = m.f.fs.vfsfs.Dev()
	}
	return st, err
}

// SetStat implements vfs.FileStater.
func (m *memfdFD) SetStat(ctx vfs.Context, s vfs.SetStat) error { return m.f.SetStat(ctx, s) }
