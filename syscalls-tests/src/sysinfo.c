/*
 * sysinfo: sysinfo(2) reports sane values: uptime > 0, totalram > 0,
 * freeram <= totalram, mem_unit >= 1, procs >= 1, loads present.
 * A wild pointer -> EFAULT.
 */
#include "t.h"
#include <sys/sysinfo.h>

int main(void)
{
	struct sysinfo si;
	memset(&si, 0, sizeof si);
	SYSOK("sysinfo", sysinfo(&si));
	CHECK("uptime > 0", si.uptime > 0);
	CHECK("totalram > 0", si.totalram > 0);
	CHECK("freeram <= totalram", si.freeram <= si.totalram);
	CHECK("mem_unit >= 1", si.mem_unit >= 1);
	CHECK("procs >= 1", si.procs >= 1);
	CHECK("freeswap <= totalswap", si.freeswap <= si.totalswap);
	EXPECT_ERRNO("sysinfo((void*)1) -> EFAULT", syscall(SYS_sysinfo, (void *)1), EFAULT);
	return t_done();
}
