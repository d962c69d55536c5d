/* Memory exhaustion: a child allocates and touches memory until the
 * sandbox's memory limit (--memory, set by the harness) stops it; the
 * sentry kills it as the OOM killer would (SIGKILL), never the sentry or the
 * host (the harness's host cgroup allows more than the sandbox's limit).
 * The program then allocates again. */
// escape: memory=192M
#include "e.h"
#include <signal.h>
#include <sys/mman.h>

static void hog(void)
{
	for (;;) {
		char *p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(4); /* refused at mmap: also contained */
		for (size_t i = 0; i < (16 << 20); i += 4096)
			p[i] = 1;
	}
}

/* use32 touches 32 MiB and exits 0. */
static void use32(void)
{
	char *p = malloc(32 << 20);
	if (!p)
		_exit(1);
	memset(p, 1, 32 << 20);
	_exit(p[(32 << 20) - 1] == 1 ? 0 : 1);
}

/* recovered reports whether 32 MiB can be used again, in a child: the
 * sentry may still be releasing the hog's memory when wait returns (it
 * frees it after reporting the exit), and a failure here must not take
 * init with it. */
static int recovered(void)
{
	for (int i = 0; i < 40; i++) {
		int st = e_in_child(use32);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			return 1;
		usleep(50000);
	}
	return 0;
}

int main(void)
{
	int st = e_in_child(hog);
	CHECK("the hog is stopped (killed or refused)", (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) || (WIFEXITED(st) && WEXITSTATUS(st) == 4));
	CHECK("memory is available again", recovered());
	st = e_in_child(hog);
	CHECK("a second hog is stopped too", WIFSIGNALED(st) || WIFEXITED(st));
	CHECK("and memory is available again", recovered());
	return t_done();
}
