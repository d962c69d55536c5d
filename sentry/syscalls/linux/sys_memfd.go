package linux

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_MEMFD_CREATE: partial("memfd_create", MemfdCreate, "MFD_HUGETLB: EINVAL (no hugetlbfs)"),
	})
}

// memfd_create(2) flags (include/uapi/linux/memfd.h).
const (
	mfdCloexec      = 0x1
	mfdAllowSealing = 0x2
	mfdHugetlb      = 0x4
	mfdNoexecSeal   = 0x8
	mfdExec         = 0x10
	mfdAllFlags     = mfdCloexec | mfdAllowSealing | mfdHugetlb | mfdNoexecSeal | mfdExec

	// mfdNameMax is MFD_NAME_MAX_LEN: NAME_MAX minus the "memfd:" prefix.
	mfdNameMax = 255 - len("memfd:")
)

// memfdMounts holds, per VFS (one per sandbox), the internal tmpfs that
// memfds live on (the kernel's shm_mnt): never mounted, no size limit.
var memfdMounts struct {
	mu sync.Mutex
	// fs is protected by mu.
	fs map[*vfs.VirtualFilesystem]*tmpfs.Filesystem
}

// memfdFS returns t's sandbox's internal tmpfs, creating it on first use.
func memfdFS(t *kernel.Task) (*tmpfs.Filesystem, error) {
	memfdMounts.mu.Lock()
	defer memfdMounts.mu.Unlock()
	v := t.VFS()
	if fs, ok := memfdMounts.fs[v]; ok {
		return fs, nil
	}
	vfsfs, err := tmpfs.New(v, tmpfs.Options{Mode: 0o1777, MemFile: t.Kernel().MemFile})
	if err != nil {
		return nil, unix.ENOMEM
	}
	fs, _ := tmpfs.FromVFS(vfsfs)
	if memfdMounts.fs == nil {
		memfdMounts.fs = make(map[*vfs.VirtualFilesystem]*tmpfs.Filesystem)
	}
	memfdMounts.fs[v] = fs
	return fs, nil
}

// MemfdCreate implements Linux syscall memfd_create(2) (mm/memfd.c). The
// sandbox behaves as with vm.memfd_noexec=0: without MFD_NOEXEC_SEAL the
// file is executable (mode 0777), with it mode 0666 and sealed F_SEAL_EXEC.
func MemfdCreate(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, flags := args[0].Pointer(), args[1].Uint()
	if flags&^mfdAllFlags != 0 || flags&mfdHugetlb != 0 {
		// Huge page size bits are only valid with MFD_HUGETLB, and there
		// is no hugetlbfs in the sandbox.
		return 0, unix.EINVAL
	}
	if flags&mfdExec != 0 && flags&mfdNoexecSeal != 0 {
		return 0, unix.EINVAL
	}
	name, err := t.CopyInString(addr, mfdNameMax+1)
	if errors.Is(err, unix.ENAMETOOLONG) {
		return 0, unix.EINVAL
	}
	if err != nil {
		return 0, unix.EFAULT
	}
	fs, err := memfdFS(t)
	if err != nil {
		return 0, err
	}
	c := t.Credentials()
	o := tmpfs.MemfdOptions{Name: name, Mode: 0o777, UID: c.FSUID, GID: c.FSGID, Seals: tmpfs.SealSeal}
	switch {
	case flags&mfdNoexecSeal != 0:
		o.Mode = 0o666
		o.Seals = tmpfs.SealExec
	case flags&mfdAllowSealing != 0:
		o.Seals = 0
	}
	return installFD(t, fs.NewMemfd(o), flags&mfdCloexec != 0)
}

// sealer is an open file that supports seals (tmpfs files).
type sealer interface {
	Seals() uint32
	AddSeals(seals uint32) error
}

// fcntlSeals implements F_ADD_SEALS and F_GET_SEALS (memfd_fcntl()): only
// tmpfs files have seals (EINVAL otherwise); adding needs the file open
// for writing (EPERM).
func fcntlSeals(f *vfs.FileDescription, cmd int32, arg uint64) (uintptr, error) {
	s, ok := f.Impl().(sealer)
	if !ok {
		return 0, unix.EINVAL
	}
	if cmd == unix.F_GET_SEALS {
		return uintptr(s.Seals()), nil
	}
	if arg > 0xffffffff {
		return 0, unix.EINVAL
	}
	if !f.Writable() {
		return 0, unix.EPERM
	}
	return 0, s.AddSeals(uint32(arg))
}
