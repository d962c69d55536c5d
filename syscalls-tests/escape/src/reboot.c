/* reboot(2) with the real magic numbers: not implemented for the app
 * (ENOSYS). The harness runs this inside a PID namespace of its own, where
 * even an escaped reboot could only end that namespace's init. */
#include "e.h"
#include <linux/reboot.h>

int main(void)
{
	EXPECT_ERRNO("reboot(RESTART)", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART, 0), ENOSYS);
	EXPECT_ERRNO("reboot(POWER_OFF)", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, 0), ENOSYS);
	EXPECT_ERRNO("reboot(CAD_OFF)", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, 0), ENOSYS);
	CHECK("still running", 1);
	return t_done();
}
