/*
 * exit42: exit_group(2) status propagation. The process prints one line and
 * calls exit_group(42) directly; the harness expects exit status 42.
 *
 * expect-exit: 42
 */
#include "t.h"

int main(void)
{
	printf("calling exit_group(42)\n");
	fflush(stdout);
	syscall(SYS_exit_group, 42);
	printf("FAIL exit_group returned\n");
	return 1;
}
