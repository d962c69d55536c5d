package socket

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
)

// file is the vfs.FileImpl of every socket (socket_file_ops + the sockfs
// inode): read and write are receives and sends without addresses,
// readiness is the socket's.
type file struct {
	s Socket
	// ino and dev are immutable.
	ino, dev uint64

	mu sync.Mutex
	// mode, uid, gid and the times are the sockfs inode's attributes
	// (fchmod and fchown work on sockets; the times start at zero, as a
	// socket inode's do). Protected by mu.
	mode, uid, gid uint32
	atime, mtime   vfs.Timespec
	ctime          vfs.Timespec
}

var (
	_ vfs.FileImpl    = (*file)(nil)
	_ vfs.FileStater  = (*file)(nil)
	_ vfs.Namer       = (*file)(nil)
	_ waiter.Waitable = (*file)(nil)
)

// NewFile returns a file for s with status flags flags (O_NONBLOCK or 0;
// sockets are always O_RDWR), owned by the caller's fsuid and fsgid
// (sock_alloc_file(), sock_alloc()).
func NewFile(ctx Context, s Socket, flags uint32) *vfs.FileDescription {
	st := ctx.Stack()
	creds := ctx.Credentials()
	f := &file{
		s:    s,
		ino:  st.newIno(),
		dev:  st.dev,
		mode: unix.S_IFSOCK | 0o777,
		uid:  creds.FSUID,
		gid:  creds.FSGID,
	}
	if in, ok := s.(FileInfoSetter); ok {
		in.SetFileInfo(f.ino, f.uid)
	}
	fd := vfs.NewAnonFile(f, unix.O_RDWR|flags&unix.O_NONBLOCK, vfs.FileOptions{Positionless: true, NoPRead: true})
	if a, ok := s.(FileAttacher); ok {
		a.AttachFile(fd)
	}
	return fd
}

// FileAttacher is implemented by sockets that need to know their file
// (AF_UNIX's garbage collector compares its references with those in
// flight).
type FileAttacher interface {
	AttachFile(fd *vfs.FileDescription)
}

// FileInfoSetter is implemented by sockets that report their file's inode
// number and owner themselves (/proc/net/tcp's inode and uid columns).
type FileInfoSetter interface {
	SetFileInfo(ino uint64, uid uint32)
}

// FromFile returns the socket behind fd, or ENOTSOCK (sock_from_file()).
func FromFile(fd *vfs.FileDescription) (Socket, error) {
	if f, ok := fd.Impl().(*file); ok {
		return f.s, nil
	}
	return nil, unix.ENOTSOCK
}

// Release implements vfs.FileImpl.
func (f *file) Release() { f.s.Release() }

// Read implements vfs.FileImpl: a receive with no flags but O_NONBLOCK
// (sock_read_iter()). A zero-length read returns 0 at once.
func (f *file) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	c, ok := contextOf(ctx)
	if !ok {
		return 0, unix.EINVAL
	}
	r, err := f.s.RecvMsg(c, BufferIO(dst), FileFlags(fd))
	r.ReleaseRights()
	return r.N, err
}

// Write implements vfs.FileImpl: a send with no flags but O_NONBLOCK
// (sock_write_iter()).
func (f *file) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64, _ bool) (int, int64, error) {
	c, ok := contextOf(ctx)
	if !ok {
		return 0, 0, unix.EINVAL
	}
	n, err := f.s.SendMsg(c, BufferIO(src), nil, nil, FileFlags(fd))
	return n, 0, err
}

// FileFlags returns the MSG_* flags implied by fd's status flags:
// MSG_DONTWAIT for O_NONBLOCK.
func FileFlags(fd *vfs.FileDescription) int {
	if fd.StatusFlags()&unix.O_NONBLOCK != 0 {
		return unix.MSG_DONTWAIT
	}
	return 0
}

// Ioctl implements vfs.FileImpl (sock_ioctl()): the family's commands.
// Ownership (FIOSETOWN, SIOCSPGRP, FIOGETOWN, SIOCGPGRP) is the syscall
// layer's, with fcntl's F_SETOWN.
func (f *file) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uintptr) (uintptr, error) {
	c, ok := contextOf(ctx)
	if !ok {
		return 0, unix.EINVAL
	}
	switch cmd {
	case siocGIfConf:
		if deviceIoctl != nil {
			return deviceIoctl(c, cmd, arg)
		}
	}
	r, err := f.s.Ioctl(c, cmd, arg)
	if err == unix.ENOTTY && cmd>>8&0xff == sockIocType && deviceIoctl != nil {
		// Network device ioctls work on a socket of any family
		// (sock_do_ioctl() falls back to dev_ioctl()).
		return deviceIoctl(c, cmd, arg)
	}
	return r, err
}

// siocGIfConf is SIOCGIFCONF, which sock_ioctl() answers for every
// family; sockIocType is the ioctl type of socket commands (0x89).
const (
	siocGIfConf = 0x8912
	sockIocType = 0x89
)

// deviceIoctl handles the network device ioctls (SIOCGIFINDEX, ...) of
// the caller's network namespace. Set once at init by SetDeviceIoctl.
var deviceIoctl func(ctx Context, cmd uint32, arg uintptr) (uintptr, error)

// SetDeviceIoctl installs the network device ioctls (dev_ioctl()); the
// syscall package wires netstack's in at init.
func SetDeviceIoctl(f func(ctx Context, cmd uint32, arg uintptr) (uintptr, error)) { deviceIoctl = f }

// Sync implements vfs.FileImpl: sockets cannot be synced.
func (f *file) Sync(vfs.Context) error { return unix.EINVAL }

// Stat implements vfs.FileStater.
func (f *file) Stat() (vfs.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return vfs.Stat{
		Mask:    unix.STATX_BASIC_STATS,
		Mode:    f.mode,
		Nlink:   1,
		UID:     f.uid,
		GID:     f.gid,
		Ino:     f.ino,
		Dev:     f.dev,
		Blksize: 4096,
		Atime:   f.atime,
		Mtime:   f.mtime,
		Ctime:   f.ctime,
	}, nil
}

// SetStat implements vfs.FileStater (sockfs_setattr(): simple_setattr()).
func (f *file) SetStat(_ vfs.Context, s vfs.SetStat) error {
	if s.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.Mask&unix.STATX_MODE != 0 {
		f.mode = unix.S_IFSOCK | s.Mode&0o7777
	}
	if s.Mask&unix.STATX_UID != 0 {
		f.uid = s.UID
	}
	if s.Mask&unix.STATX_GID != 0 {
		f.gid = s.GID
	}
	if s.Mask&unix.STATX_ATIME != 0 {
		f.atime = s.Atime
	}
	if s.Mask&unix.STATX_MTIME != 0 {
		f.mtime = s.Mtime
	}
	f.ctime = vfs.Now()
	return nil
}

// Name implements vfs.Namer: what /proc/PID/fd shows (sockfs_dname()).
func (f *file) Name() string { return fmt.Sprintf("socket:[%d]", f.ino) }

// Readiness implements waiter.Waitable.
func (f *file) Readiness(mask waiter.EventMask) waiter.EventMask { return f.s.Readiness(mask) }

// EventRegister implements waiter.Waitable.
func (f *file) EventRegister(e *waiter.Entry) error { return f.s.EventRegister(e) }

// EventUnregister implements waiter.Waitable.
func (f *file) EventUnregister(e *waiter.Entry) { f.s.EventUnregister(e) }
