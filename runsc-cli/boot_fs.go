package main

import (
	"errors"
	"fmt"
	"log"
	"path"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"pangolin/fs/dev"
	"pangolin/fs/devpts"
	goferfs "pangolin/fs/gofer"
	"pangolin/fs/host"
	"pangolin/fs/overlay"
	"pangolin/fs/pipe"
	"pangolin/fs/proc"
	sysfs "pangolin/fs/sys"
	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/gofer/client"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
	"pangolin/sentry/memfile"
)

// sandboxFS is the sandbox's mount tree as boot builds it.
type sandboxFS struct {
	vfs  *vfs.VirtualFilesystem
	root vfs.VirtualDentry
	// bootFS is a context for the boot-time mounts and lookups, done as
	// root at the sandbox root.
	bootFS *vfs.FSContext
	// goferFDs are the gofer connections of an OCI sandbox: the root
	// first, then one per bind mount (specconv.Mount.Gofer).
	goferFDs []int
	// pts is the sandbox's devpts (nil until mounted), ptsFS its VFS
	// filesystem and ptsPath where it was first mounted.
	pts     *devpts.Filesystem
	ptsFS   *vfs.Filesystem
	ptsPath string
}

// rootCtx is the context boot-time VFS operations run with.
var rootCtx = vfs.CredsContext(auth.NewRootCredentials())

// buildFilesystem connects to the gofer and mounts the root (the gofer's
// tree, under an in-memory overlay if c.overlay), /dev, /dev/shm and,
// unless the root is the host's /, a tmpfs at /tmp.
// /proc needs the kernel and is mounted by mountProc. Every tmpfs keeps its
// data in mf, the memory file app address spaces map, so that shared
// mappings of tmpfs files work.
func buildFilesystem(c bootConfig, mf *memfile.File) (*sandboxFS, error) {
	cl, err := client.New(c.sockFD)
	if err != nil {
		return nil, fmt.Errorf("gofer connection: %w", err)
	}
	gfs, err := goferfs.New(cl, goferfs.Options{})
	if err != nil {
		return nil, fmt.Errorf("gofer filesystem: %w", err)
	}
	v := vfs.New()
	// Pipes and FIFO nodes on every filesystem.
	pipe.Install(v)
	var rootFS *vfs.Filesystem
	if c.overlay {
		// The host's tree read-only underneath, every write kept in a
		// tmpfs upper layer that dies with the sandbox.
		upper, err := tmpfs.New(v, tmpfs.Options{Mode: 0o755, MemFile: mf})
		if err != nil {
			return nil, fmt.Errorf("overlay upper layer: %w", err)
		}
		ofs, err := overlay.NewWithOptions(gfs.Root(), upper.Root().Inode(), overlay.Options{UpperFS: upper.Impl()})
		if err != nil {
			return nil, fmt.Errorf("overlay: %w", err)
		}
		rootFS, err = v.NewFilesystem(ofs, ofs.Root())
		if err != nil {
			return nil, fmt.Errorf("overlay: %w", err)
		}
	} else {
		rootFS, err = v.NewFilesystem(gfs, gfs.Root())
		if err != nil {
			return nil, fmt.Errorf("root filesystem: %w", err)
		}
	}
	root, err := v.MountRoot(rootFS, vfs.MountFlags{})
	if err != nil {
		return nil, fmt.Errorf("mounting root: %w", err)
	}
	sb := &sandboxFS{vfs: v, root: root, bootFS: vfs.NewFSContext(root, root)}

	devFS, err := dev.New(v, mf)
	if err != nil {
		return nil, fmt.Errorf("devfs: %w", err)
	}
	if err := sb.mount("/dev", devFS, vfs.MountFlags{NoSuid: true}); err != nil {
		return nil, err
	}
	// POSIX shared memory and semaphores (shm_open(3), sem_open(3)) are
	// files in /dev/shm, which glibc expects to be a tmpfs.
	shmFS, err := tmpfs.New(v, tmpfs.Options{Mode: 0o1777, MemFile: mf})
	if err != nil {
		return nil, fmt.Errorf("tmpfs for /dev/shm: %w", err)
	}
	if err := sb.mount("/dev/shm", shmFS, vfs.MountFlags{NoSuid: true, NoDev: true}); err != nil {
		return nil, err
	}
	// On the host's / the host's /tmp shows through the overlay (a
	// program the caller just built there runs; writes stay in memory);
	// a rootfs gets a tmpfs, as a container's /tmp usually is.
	if !c.hostRoot {
		tmpFS, err := tmpfs.New(v, tmpfs.Options{Mode: 0o1777, MemFile: mf})
		if err != nil {
			return nil, fmt.Errorf("tmpfs: %w", err)
		}
		if err := sb.mount("/tmp", tmpFS, vfs.MountFlags{NoSuid: true, NoDev: true}); err != nil {
			return nil, err
		}
	}
	if err := sb.mountSys(); err != nil {
		return nil, err
	}
	return sb, nil
}

// mountSys mounts the sandbox's sysfs at /sys, read-only as in a default
// OCI container.
func (sb *sandboxFS) mountSys() error {
	fs, err := sysfs.New(sb.vfs, runtime.NumCPU())
	if err != nil {
		return fmt.Errorf("sysfs: %w", err)
	}
	return sb.mount("/sys", fs, vfs.MountFlags{ReadOnly: true, NoSuid: true, NoDev: true, NoExec: true})
}

// mountProc mounts procfs for k at /proc.
func (sb *sandboxFS) mountProc(k *kernel.Kernel) error {
	pfs, err := proc.New(k)
	if err != nil {
		return fmt.Errorf("procfs: %w", err)
	}
	fs, err := sb.vfs.NewFilesystem(pfs, pfs.Root())
	if err != nil {
		return fmt.Errorf("procfs: %w", err)
	}
	return sb.mount("/proc", fs, vfs.MountFlags{NoSuid: true, NoDev: true, NoExec: true})
}

// mount attaches fs at target, creating the mount point as runc does if the
// rootfs lacks it. A read-only rootfs without the directory gets no mount
// (logged), as the app could not have used the path anyway.
func (sb *sandboxFS) mount(target string, fs *vfs.Filesystem, flags vfs.MountFlags) error {
	err := sb.vfs.MkdirAt(rootCtx, sb.bootFS, nil, target, 0o755)
	switch {
	case err == nil, errors.Is(err, unix.EEXIST):
	case errors.Is(err, unix.EROFS):
		log.Printf("no mount point %s on a read-only root: %s not mounted", target, fs.Impl().Name())
		return nil
	default:
		return fmt.Errorf("mount point %s: %w", target, err)
	}
	if _, err := sb.vfs.Mount(rootCtx, sb.bootFS, target, fs, flags); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fs.Impl().Name(), target, err)
	}
	return nil
}

// stdioTable returns a descriptor table holding the sentry's stdin, stdout
// and stderr as the app's 0, 1 and 2. Each is a duplicate, so the app
// closing its copy leaves the sentry's own stderr working.
func (sb *sandboxFS) stdioTable() (*vfs.FDTable, error) {
	fdt := vfs.NewFDTable()
	for i := 0; i < 3; i++ {
		hfd, err := unix.FcntlInt(uintptr(i), unix.F_DUPFD_CLOEXEC, 3)
		if errors.Is(err, unix.EBADF) {
			continue // the caller closed it; so is the app's
		}
		if err != nil {
			return nil, fmt.Errorf("fd %d: %w", i, err)
		}
		f, err := host.NewFile(hfd, host.Options{})
		if err != nil {
			unix.Close(hfd)
			return nil, fmt.Errorf("fd %d: %w", i, err)
		}
		_, err = fdt.SetFD(int32(i), f, vfs.FDFlags{}, 1<<20)
		f.DecRef()
		if err != nil {
			return nil, fmt.Errorf("fd %d: %w", i, err)
		}
	}
	return fdt, nil
}

// fsContext returns a root and working-directory context for the app,
// checking that cwd is a directory it may enter.
func (sb *sandboxFS) fsContext(creds *auth.Credentials, cwd string) (*vfs.FSContext, error) {
	ctx := vfs.CredsContext(creds)
	vd, err := sb.vfs.ResolvePath(ctx, sb.bootFS, nil, cwd, true)
	if err != nil {
		return nil, err
	}
	if err := sb.vfs.CheckSearchDir(creds, vd); err != nil {
		return nil, err
	}
	return vfs.NewFSContext(sb.root, vd), nil
}

// lookPath finds name the way execvp(3) does: a name with a slash is used
// as it is; otherwise each directory of the app's PATH is tried in order
// and the first executable regular file wins. EACCES is reported if only
// non-executable candidates were found, ENOENT if none.
func (sb *sandboxFS) lookPath(creds *auth.Credentials, fsc *vfs.FSContext, name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	pathVar := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathVar = v
		}
	}
	ctx := vfs.CredsContext(creds)
	found := error(unix.ENOENT)
	for _, dir := range strings.Split(pathVar, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, name)
		f, err := sb.vfs.OpenExec(ctx, fsc, nil, p, false)
		if err == nil {
			f.DecRef()
			return p, nil
		}
		if errors.Is(err, unix.EACCES) {
			found = unix.EACCES
		}
	}
	return "", found
}

// openExec is the kernel's ExecOpener: path resolved from t's root and cwd.
func (sb *sandboxFS) openExec(t *kernel.Task, p string) (kernel.ExecFile, error) {
	f, err := sb.vfs.OpenExec(t, t.FSContext(), nil, p, false)
	if err != nil {
		return nil, err
	}
	return f, nil
}
