package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// Magic numbers of the pseudo filesystems behind anonymous files
// (include/uapi/linux/magic.h).
const (
	pipefsMagic    = 0x50495045
	sockfsMagic    = 0x534F434B
	anonInodeMagic = 0x09041934
)

// statfsBytes encodes struct statfs for x86-64 (120 bytes).
func statfsBytes(s *vfs.Statfs) []byte {
	b := make([]byte, 120)
	le.PutUint64(b[0:], s.Type)
	le.PutUint64(b[8:], uint64(s.Bsize))
	le.PutUint64(b[16:], s.Blocks)
	le.PutUint64(b[24:], s.Bfree)
	le.PutUint64(b[32:], s.Bavail)
	le.PutUint64(b[40:], s.Files)
	le.PutUint64(b[48:], s.Ffree)
	// f_fsid stays zero, as for most Linux filesystems without a device.
	le.PutUint64(b[64:], s.Namelen)
	le.PutUint64(b[72:], uint64(s.Frsize))
	le.PutUint64(b[80:], s.Flags|stValid)
	return b
}

// Statfs implements Linux syscall statfs(2).
func Statfs(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	path, err := t.CopyInPath(args[0].Pointer())
	if err != nil {
		return 0, err
	}
	vd, err := t.VFS().ResolvePath(t, t.FSContext(), nil, path, true)
	if err != nil {
		return 0, err
	}
	sf, err := t.VFS().StatfsVD(vd)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOutBytes(args[1].Pointer(), statfsBytes(&sf))
}

// Fstatfs implements Linux syscall fstatfs(2).
func Fstatfs(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var sf vfs.Statfs
	if vd := f.VirtualDentry(); vd.Ok() {
		sf, err = t.VFS().StatfsVD(vd)
		if err != nil {
			return 0, err
		}
	} else {
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		sf = vfs.Statfs{Type: anonInodeMagic, Bsize: 4096, Frsize: 4096, Namelen: vfs.NameMax}
		switch st.Type() {
		case unix.S_IFIFO:
			sf.Type = pipefsMagic
		case unix.S_IFSOCK:
			sf.Type = sockfsMagic
		}
	}
	return 0, t.CopyOutBytes(args[1].Pointer(), statfsBytes(&sf))
}

// stValid is ST_VALID: f_flags is meaningful (Linux 2.6.36+).
const stValid = 0x20
