// Package sys is the sandbox's sysfs: the few files of /sys that programs
// read to learn about the machine, not a model of the kernel's device tree.
//
//   - devices/system/cpu/{online,possible,present} and one cpuN directory
//     per CPU: glibc's get_nprocs() (sysconf(_SC_NPROCESSORS_ONLN),
//     Python's os.cpu_count(), nproc) reads "online" first;
//   - kernel/mm/transparent_hugepage/{enabled,defrag}: allocators (Go's
//     runtime, jemalloc) read them; the sandbox has no huge pages, so both
//     say [never].
//
// Everything is read-only and owned by root; the tree is fixed at New.
// There is no locking: nothing is mutable after New.
package sys

import (
	"strconv"

	"pangolin/fs/vfs"
)

// sysfsMagic is SYSFS_MAGIC (include/uapi/linux/magic.h).
const sysfsMagic = 0x62656572

// New returns a sysfs instance describing ncpu CPUs, all online.
func New(v *vfs.VirtualFilesystem, ncpu int) (*vfs.Filesystem, error) {
	ino := uint64(1)
	next := func() uint64 { ino++; return ino }
	file := func(content string) vfs.Inode {
		return vfs.NewSyntheticFile(next(), 0o444, func() ([]byte, error) { return []byte(content), nil })
	}
	dir := func(children map[string]vfs.Inode) vfs.Inode { return vfs.NewStaticDir(next(), 0o755, children) }

	cpus := cpuList(ncpu) + "\n"
	cpu := map[string]vfs.Inode{
		"online":   file(cpus),
		"possible": file(cpus),
		"present":  file(cpus),
		"offline":  file("\n"),
	}
	for i := 0; i < ncpu; i++ {
		cpu["cpu"+strconv.Itoa(i)] = dir(map[string]vfs.Inode{})
	}
	thp := map[string]vfs.Inode{
		"enabled": file("always madvise [never]\n"),
		"defrag":  file("always defer defer+madvise madvise [never]\n"),
	}
	root := vfs.NewStaticDir(1, 0o555, map[string]vfs.Inode{
		"devices": dir(map[string]vfs.Inode{"system": dir(map[string]vfs.Inode{"cpu": dir(cpu)})}),
		"kernel":  dir(map[string]vfs.Inode{"mm": dir(map[string]vfs.Inode{"transparent_hugepage": dir(thp)})}),
	})
	return v.NewFilesystem(&vfs.SimpleFilesystem{FSName: "sysfs", Magic: sysfsMagic}, root)
}

// cpuList renders CPUs 0..n-1 as a cpulist ("0", "0-3"; cpumap_print_to_pagebuf()).
func cpuList(n int) string {
	if n <= 1 {
		return "0"
	}
	return "0-" + strconv.Itoa(n-1)
}
