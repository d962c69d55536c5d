/*
 * hello: the smallest possible check that a static binary starts, writes to
 * stdout and exits 0 (write(2), exit_group(2)). Also used after the fuzzer
 * to show the sentry still serves a fresh program.
 */
#include "t.h"

int main(void)
{
	printf("hello from a static binary\n");
	return t_done();
}
