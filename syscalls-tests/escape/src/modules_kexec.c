/* Loading kernel code: module loading and kexec are not implemented for
 * the app (ENOSYS). The harness checks the host's /proc/modules after. */
#include "e.h"

int main(void)
{
	static char image[4096];
	int fd = open("/e/modules_kexec", O_RDONLY);
	MUST("open own binary", fd);
	EXPECT_ERRNO("init_module", syscall(SYS_init_module, image, sizeof image, ""), ENOSYS);
	EXPECT_ERRNO("finit_module", syscall(SYS_finit_module, fd, "", 0), ENOSYS);
	EXPECT_ERRNO("delete_module", syscall(SYS_delete_module, "loop", O_NONBLOCK), ENOSYS);
	EXPECT_ERRNO("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0), ENOSYS);
	EXPECT_ERRNO("kexec_file_load", syscall(SYS_kexec_file_load, fd, fd, 0, "", 0), ENOSYS);
	return t_done();
}
