/*
 * efault: wild user pointers give EFAULT, never a crash (errno(3): "EFAULT
 * Bad address"). Raw syscall(2) is used so glibc cannot intervene.
 * Pointers used: (void*)1 (the unmapped page 0) and a kernel-half address.
 */
#include "t.h"

#define WILD ((void *)1)
#define KERN ((void *)0xffff800000000000UL)

int main(void)
{
	char buf[64];
	int fd = open("/dev/zero", O_RDWR), p[2];
	MUST("open", fd);
	MUST("pipe", pipe(p));
	MUST("write", write(p[1], "abc", 3));
	t_tmpdir("efault");
	MUST("symlink", symlink("target", "ln"));
	EXPECT_ERRNO("read into (void*)1", syscall(SYS_read, fd, WILD, 10), EFAULT);
	EXPECT_ERRNO("read into kernel address", syscall(SYS_read, fd, KERN, 10), EFAULT);
	EXPECT_ERRNO("read pipe into (void*)1", syscall(SYS_read, p[0], WILD, 3), EFAULT);
	EXPECT_ERRNO("write from (void*)1 to pipe", syscall(SYS_write, p[1], WILD, 10), EFAULT);
	EXPECT_ERRNO("pread into (void*)1", syscall(SYS_pread64, fd, WILD, 10, 0), EFAULT);
	EXPECT_ERRNO("readv with wild iovec", syscall(SYS_readv, fd, WILD, 1), EFAULT);
	EXPECT_ERRNO("stat((char*)1)", syscall(SYS_stat, WILD, buf), EFAULT);
	EXPECT_ERRNO("stat into wild buffer", syscall(SYS_stat, "/", WILD), EFAULT);
	EXPECT_ERRNO("fstat into wild buffer", syscall(SYS_fstat, fd, WILD), EFAULT);
	EXPECT_ERRNO("lstat((char*)1)", syscall(SYS_lstat, WILD, buf), EFAULT);
	EXPECT_ERRNO("newfstatat wild path", syscall(SYS_newfstatat, AT_FDCWD, WILD, buf, 0), EFAULT);
	EXPECT_ERRNO("open((char*)1)", syscall(SYS_open, WILD, O_RDONLY), EFAULT);
	EXPECT_ERRNO("openat kernel path", syscall(SYS_openat, AT_FDCWD, KERN, O_RDONLY), EFAULT);
	EXPECT_ERRNO("uname((void*)1)", syscall(SYS_uname, WILD), EFAULT);
	EXPECT_ERRNO("getcwd((char*)1)", syscall(SYS_getcwd, WILD, 100), EFAULT);
	EXPECT_ERRNO("pipe((int*)1)", syscall(SYS_pipe, WILD), EFAULT);
	EXPECT_ERRNO("clock_gettime wild", syscall(SYS_clock_gettime, 0, WILD), EFAULT);
	EXPECT_ERRNO("chdir((char*)1)", syscall(SYS_chdir, WILD), EFAULT);
	EXPECT_ERRNO("mkdir((char*)1)", syscall(SYS_mkdir, WILD, 0755), EFAULT);
	EXPECT_ERRNO("unlink((char*)1)", syscall(SYS_unlink, WILD), EFAULT);
	EXPECT_ERRNO("readlink into wild", syscall(SYS_readlink, "ln", WILD, 10), EFAULT);
	EXPECT_ERRNO("access((char*)1)", syscall(SYS_access, WILD, F_OK), EFAULT);
	EXPECT_ERRNO("getdents64 into wild", syscall(SYS_getdents64, open("/", O_RDONLY | O_DIRECTORY), WILD, 4096), EFAULT);
	EXPECT_ERRNO("sysinfo wild", syscall(SYS_sysinfo, WILD), EFAULT);
	EXPECT_ERRNO("getrlimit wild", syscall(SYS_getrlimit, 7, WILD), EFAULT);
	EXPECT_ERRNO("nanosleep wild", syscall(SYS_nanosleep, WILD, NULL), EFAULT);
	EXPECT_ERRNO("rt_sigprocmask wild", syscall(SYS_rt_sigprocmask, 0, WILD, NULL, 8), EFAULT);
	EXPECT_ERRNO("getrandom wild", syscall(SYS_getrandom, WILD, 8, 0), EFAULT);
	EXPECT_ERRNO("execve((char*)1)", syscall(SYS_execve, WILD, NULL, NULL), EFAULT);
	/* the process is intact: a normal read still works */
	EXPECT_EQ("read after EFAULTs", read(p[0], buf, 3), 3);
	CHECK("data intact", memcmp(buf, "abc", 3) == 0);
	return t_done();
}
