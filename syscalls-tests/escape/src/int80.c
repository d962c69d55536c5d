/* 32-bit syscalls through int $0x80 from a 64-bit program: the sentry sees
 * them like any other trap and never hands them to the host, so a 32-bit
 * mount(2) (nr 21) or reboot(2) (nr 88) cannot reach the host; the
 * harness checks the host's mounts. Whatever the sentry does with the call
 * (it serves the 64-bit call of that number, or refuses), the process
 * survives or dies inside the sandbox only. */
#include "e.h"

static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

static void mount32(void)
{
	static char src[] = "pangolin-escape", dst[] = "/tmp", fs[] = "tmpfs";
	/* i386 mount(source, target, type, ...). */
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(21L), "b"(src), "c"(dst), "d"(fs), "S"(0L), "D"(0L) : "memory");
	_exit(r == 0 ? 9 : 0);
}

static void reboot32(void)
{
	long r = int80(88, 0xfee1dead, 672274793, 0x01234567);
	_exit(r == 0 ? 9 : 0);
}

int main(void)
{
	int st = e_in_child(mount32);
	CHECK("int $0x80 mount does not mount", !(WIFEXITED(st) && WEXITSTATUS(st) == 9));
	st = e_in_child(reboot32);
	CHECK("int $0x80 reboot does not reboot", !(WIFEXITED(st) && WEXITSTATUS(st) == 9));
	CHECK("still running", getpid() > 0);
	return t_done();
}
