package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path"

	"golang.org/x/sys/unix"

	"pangolin/fs/dev"
	goferfs "pangolin/fs/gofer"
	"pangolin/fs/host"
	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/gofer/client"
	"pangolin/runsc-cli/specconv"
	"pangolin/sentry/kernel"
	"pangolin/sentry/memfile"
)

// newOCIFilesystem mounts the container's root from the first gofer
// connection. The other mounts need the kernel (proc) and are added by
// mountOCI.
func newOCIFilesystem(cfg *specconv.Config, goferFDs []int) (*sandboxFS, error) {
	v := vfs.New()
	rootFS, err := goferFilesystem(v, goferFDs[0])
	if err != nil {
		return nil, fmt.Errorf("root filesystem: %w", err)
	}
	root, err := v.MountRoot(rootFS, vfs.MountFlags{ReadOnly: cfg.RootReadOnly})
	if err != nil {
		return nil, fmt.Errorf("mounting root: %w", err)
	}
	sb := &sandboxFS{vfs: v, root: root, bootFS: vfs.NewFSContext(root, root)}
	sb.goferFDs = goferFDs
	return sb, nil
}

// goferFilesystem makes a gofer-backed filesystem on connection fd. Host
// changes (docker cp, the host editing a bind mount) are seen at once:
// cached names are revalidated on every lookup.
func goferFilesystem(v *vfs.VirtualFilesystem, fd int) (*vfs.Filesystem, error) {
	cl, err := client.New(fd)
	if err != nil {
		return nil, fmt.Errorf("gofer connection: %w", err)
	}
	gfs, err := goferfs.New(cl, goferfs.Options{})
	if err != nil {
		return nil, err
	}
	return v.NewFilesystem(gfs, gfs.Root())
}

// mountOCI adds the spec's mounts in order, then masks maskedPaths.
func (sb *sandboxFS) mountOCI(cfg *specconv.Config, k *kernel.Kernel) error {
	mf := k.MemFile
	for _, m := range cfg.Mounts {
		flags := vfs.MountFlags{ReadOnly: m.ReadOnly, NoExec: m.NoExec, NoSuid: m.NoSuid, NoDev: m.NoDev}
		var fs *vfs.Filesystem
		var err error
		switch m.Kind {
		case specconv.KindProc:
			err = sb.mountProcFlags(k, m.Destination, flags)
			if err != nil {
				return err
			}
			continue
		case specconv.KindDev:
			fs, err = dev.New(sb.vfs, mf)
		case specconv.KindDevpts:
			fs, err = sb.devpts(k, m.Destination)
		case specconv.KindTmpfs:
			fs, err = tmpfs.New(sb.vfs, tmpfs.Options{MaxSize: m.Size, Mode: m.Mode, MemFile: mf})
		case specconv.KindSysfs:
			fs, err = tmpfs.New(sb.vfs, tmpfs.Options{Mode: 0o555, Name: "sysfs", MemFile: mf})
			flags.ReadOnly = true
		case specconv.KindBind:
			if m.Gofer <= 0 || m.Gofer >= len(sb.goferFDs) {
				return fmt.Errorf("mount %s: no gofer connection %d", m.Destination, m.Gofer)
			}
			fs, err = goferFilesystem(sb.vfs, sb.goferFDs[m.Gofer])
		default:
			return fmt.Errorf("mount %s: unknown kind %q", m.Destination, m.Kind)
		}
		if err != nil {
			return fmt.Errorf("mount %s (%s): %w", m.Destination, m.Kind, err)
		}
		if fs == nil {
			continue
		}
		if m.Kind == specconv.KindBind && m.File {
			err = sb.mountFile(m.Destination, fs, flags)
		} else {
			err = sb.mount(m.Destination, fs, flags)
		}
		if err != nil {
			return err
		}
	}
	for _, p := range cfg.MaskedPaths {
		if err := sb.mask(p, mf); err != nil {
			return err
		}
	}
	for _, p := range cfg.ReadonlyPaths {
		if _, err := sb.vfs.ResolvePath(rootCtx, sb.bootFS, nil, p, true); err == nil {
			log.Printf("readonlyPaths: %s exists; the sandbox's %s is read-only to the app already or not remountable", p, p)
		}
	}
	return nil
}

// mountProcFlags mounts procfs for k at target.
func (sb *sandboxFS) mountProcFlags(k *kernel.Kernel, target string, flags vfs.MountFlags) error {
	if target == "/proc" && !flags.NoExec && !flags.NoSuid && !flags.NoDev {
		flags = vfs.MountFlags{NoSuid: true, NoDev: true, NoExec: true, ReadOnly: flags.ReadOnly}
	}
	pfs, err := newProcFS(k)
	if err != nil {
		return err
	}
	return sb.mount(target, pfs, flags)
}

// mountFile mounts a filesystem whose root is a file over the file
// target, creating an empty file there as runc does if the rootfs lacks
// it.
func (sb *sandboxFS) mountFile(target string, fs *vfs.Filesystem, flags vfs.MountFlags) error {
	if err := sb.vfs.MkdirAt(rootCtx, sb.bootFS, nil, path.Dir(target), 0o755); err != nil && !errors.Is(err, unix.EEXIST) && !errors.Is(err, unix.EROFS) {
		return fmt.Errorf("mount point %s: %w", path.Dir(target), err)
	}
	err := sb.vfs.MknodAt(rootCtx, sb.bootFS, nil, target, unix.S_IFREG|0o644, 0)
	switch {
	case err == nil, errors.Is(err, unix.EEXIST):
	case errors.Is(err, unix.EROFS):
		if _, rerr := sb.vfs.ResolvePath(rootCtx, sb.bootFS, nil, target, true); rerr != nil {
			log.Printf("no mount point %s on a read-only root: not mounted", target)
			return nil
		}
	default:
		return fmt.Errorf("mount point %s: %w", target, err)
	}
	if _, err := sb.vfs.Mount(rootCtx, sb.bootFS, target, fs, flags); err != nil {
		return fmt.Errorf("bind mount on %s: %w", target, err)
	}
	return nil
}

// mask hides p as runc's maskedPaths do: an empty read-only directory
// over a directory. Paths the sandbox does not have need nothing; a file
// that exists is refused loudly rather than left visible.
func (sb *sandboxFS) mask(p string, mf *memfile.File) error {
	vd, err := sb.vfs.ResolvePath(rootCtx, sb.bootFS, nil, p, false)
	if err != nil {
		return nil // nothing there to hide
	}
	if !vd.Dentry.IsDir() {
		log.Printf("maskedPaths: %s is a file in the sandbox; masking files is not supported, it stays visible", p)
		return nil
	}
	fs, err := tmpfs.New(sb.vfs, tmpfs.Options{Mode: 0o555, MemFile: mf})
	if err != nil {
		return err
	}
	if _, err := sb.vfs.MountAt(vd, fs, vfs.MountFlags{ReadOnly: true}); err != nil {
		return fmt.Errorf("masking %s: %w", p, err)
	}
	return nil
}

// hostFDTable makes a descriptor table of three host files (exec's
// stdin, stdout, stderr), taking ownership of them.
func hostFDTable(fds []*os.File) (*vfs.FDTable, error) {
	fdt := vfs.NewFDTable()
	for i, hf := range fds {
		hfd, err := unix.FcntlInt(hf.Fd(), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			fdt.DecRef()
			return nil, err
		}
		f, err := host.NewFile(hfd, host.Options{})
		if err != nil {
			unix.Close(hfd)
			fdt.DecRef()
			return nil, fmt.Errorf("fd %d: %w", i, err)
		}
		_, err = fdt.SetFD(int32(i), f, vfs.FDFlags{}, 1<<20)
		f.DecRef()
		if err != nil {
			fdt.DecRef()
			return nil, err
		}
	}
	return fdt, nil
}
