/* mount, umount and pivot_root are not implemented for the app (ENOSYS):
 * nothing reaches the host's mount table, which the harness checks for
 * the source name used here. */
#include "e.h"
#include <sys/mount.h>

int main(void)
{
	MUST("mkdir", mkdir("/tmp/m", 0755));
	EXPECT_ERRNO("mount tmpfs", mount("pangolin-escape", "/tmp/m", "tmpfs", 0, NULL), ENOSYS);
	EXPECT_ERRNO("mount proc", mount("pangolin-escape", "/tmp/m", "proc", 0, NULL), ENOSYS);
	EXPECT_ERRNO("bind mount /", mount("/", "/tmp/m", NULL, MS_BIND, NULL), ENOSYS);
	EXPECT_ERRNO("remount / rw", mount(NULL, "/", NULL, MS_REMOUNT, NULL), ENOSYS);
	EXPECT_ERRNO("umount /proc", umount2("/proc", MNT_DETACH), ENOSYS);
	EXPECT_ERRNO("pivot_root", syscall(SYS_pivot_root, "/tmp/m", "/tmp/m"), ENOSYS);
	EXPECT_ERRNO("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 0), ENOSYS);
	EXPECT_ERRNO("fsopen", syscall(SYS_fsopen, "tmpfs", 0), ENOSYS);
	EXPECT_ERRNO("move_mount", syscall(SYS_move_mount, AT_FDCWD, "/tmp", AT_FDCWD, "/tmp/m", 0), ENOSYS);
	return t_done();
}
