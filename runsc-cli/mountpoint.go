package main

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"pangolin/runsc-cli/specconv"
)

// makeMountPoints creates, in the host rootfs, the mount points of cfg's
// mounts that it lacks, as runc does before making the root read-only:
// with root.readonly the sandbox cannot create them itself (its gofer
// refuses every write to the root). Each path is walked one component at
// a time with O_NOFOLLOW below the rootfs, so a symlink in the image can
// never make us create anything outside it; a mount point behind a
// symlink is left to the sandbox, which resolves it inside the container.
func makeMountPoints(rootfs string, cfg *specconv.Config) error {
	for _, m := range cfg.Mounts {
		if err := makeMountPoint(rootfs, m.Destination, m.Kind == specconv.KindBind && m.File); err != nil {
			return fmt.Errorf("mount point %s: %w", m.Destination, err)
		}
	}
	return nil
}

func makeMountPoint(rootfs, dest string, file bool) error {
	dfd, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	parts := strings.Split(strings.Trim(dest, "/"), "/")
	for i, p := range parts {
		if p == "" || p == "." || p == ".." {
			unix.Close(dfd)
			return nil // cleaned paths have none; nothing safe to do
		}
		last := i == len(parts)-1
		nfd, err := unix.Openat(dfd, p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			if last && file {
				fd, cerr := unix.Openat(dfd, p, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
				if cerr == nil {
					unix.Close(fd)
				}
				unix.Close(dfd)
				if errors.Is(cerr, unix.EEXIST) {
					return nil
				}
				return cerr
			}
			if merr := unix.Mkdirat(dfd, p, 0o755); merr != nil && !errors.Is(merr, unix.EEXIST) {
				unix.Close(dfd)
				return merr
			}
			nfd, err = unix.Openat(dfd, p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		unix.Close(dfd)
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Fstat(nfd, &st); err != nil {
			unix.Close(nfd)
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			// A symlink (left to the sandbox), or the file itself.
			unix.Close(nfd)
			return nil
		}
		dfd = nfd
	}
	unix.Close(dfd)
	return nil
}
