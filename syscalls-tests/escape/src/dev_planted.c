/* Device nodes planted in the rootfs by the host (/escape/mem is c 1 1,
 * /escape/disk is a block device): the sentry opens only devices it
 * provides itself (ENXIO) and never asks the gofer, which would refuse
 * anyway (EPERM: it never opens a device node), and whose mount of the
 * rootfs is nodev. No host device is reached. */
#include "e.h"

int main(void)
{
	struct stat st;
	CHECK("planted /escape/mem is a character device", stat("/escape/mem", &st) == 0 && S_ISCHR(st.st_mode));
	EXPECT_ERRNO("open planted /escape/mem", open("/escape/mem", O_RDONLY), ENXIO);
	EXPECT_ERRNO("open planted /escape/mem for writing", open("/escape/mem", O_WRONLY), ENXIO);
	CHECK("planted /escape/disk is a block device", stat("/escape/disk", &st) == 0 && S_ISBLK(st.st_mode));
	EXPECT_ERRNO("open planted /escape/disk", open("/escape/disk", O_RDONLY), ENXIO);
	EXPECT_ERRNO("mknod a device in the rootfs", mknod("/escape/made", S_IFCHR | 0600, 0x0101), EPERM);
	return t_done();
}
