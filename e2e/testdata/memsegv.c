/*
 * memsegv: malloc of 1 GiB (touched page by page and checked), mmap of a
 * file (shared and private, read back), mprotect (a write to a read-only
 * page faults, a re-enabled write works), then a deliberate SIGSEGV with
 * the default action: the exit status is 139. Prints no addresses.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile sig_atomic_t faults;

static void on_segv(int sig)
{
	(void)sig;
	faults++;
	siglongjmp(jb, 1);
}

#define CHECK(what, cond) printf("%s %s\n", (cond) ? "ok" : "FAIL", what)

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const size_t gib = 1UL << 30;
	unsigned char *big = malloc(gib);
	CHECK("malloc 1 GiB", big != NULL);
	if (!big)
		return 1;
	for (size_t i = 0; i < gib; i += 4096)
		big[i] = (unsigned char)(i >> 12);
	int good = 1;
	for (size_t i = 0; i < gib; i += 4096)
		if (big[i] != (unsigned char)(i >> 12))
			good = 0;
	CHECK("1 GiB written and read back", good);
	free(big);

	/* A file in the rootfs (served by the gofer; tmpfs MAP_SHARED is
	 * covered by syscalls-tests/src/mmap_file.c). */
	const char *path = "/memsegv.dat";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK("create file", fd >= 0);
	char buf[8192];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = 'a' + i % 26;
	CHECK("write file", write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
	char *sh = mmap(NULL, sizeof buf, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("mmap shared", sh != MAP_FAILED);
	CHECK("mapped content matches", memcmp(sh, buf, sizeof buf) == 0);
	sh[4096] = 'Z';
	CHECK("msync", msync(sh, sizeof buf, MS_SYNC) == 0);
	char c = 0;
	CHECK("shared store visible to pread", pread(fd, &c, 1, 4096) == 1 && c == 'Z');
	char *pv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 4096);
	CHECK("mmap private at offset", pv != MAP_FAILED && pv[0] == 'Z');
	pv[1] = '!';
	CHECK("private store not in file", pread(fd, &c, 1, 4097) == 1 && c != '!');
	munmap(pv, 4096);
	munmap(sh, sizeof buf);
	close(fd);
	unlink(path);

	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap anonymous", p != MAP_FAILED);
	memset(p, 7, 3 * 4096);
	CHECK("mprotect middle read-only", mprotect(p + 4096, 4096, PROT_READ) == 0);
	struct sigaction sa = {0};
	sa.sa_handler = on_segv;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	if (sigsetjmp(jb, 1) == 0)
		p[4096] = 1;
	CHECK("write to read-only page faults", faults == 1);
	CHECK("read of read-only page works", p[4096] == 7);
	CHECK("neighbours still writable", (p[0] = 1) == 1 && (p[8192] = 1) == 1);
	CHECK("mprotect back to read-write", mprotect(p + 4096, 4096, PROT_READ | PROT_WRITE) == 0);
	if (sigsetjmp(jb, 1) == 0)
		p[4096] = 2;
	CHECK("write after mprotect works", faults == 1 && p[4096] == 2);
	CHECK("mprotect PROT_NONE", mprotect(p, 4096, PROT_NONE) == 0);
	if (sigsetjmp(jb, 1) == 0)
		c = *(volatile char *)p;
	CHECK("read of PROT_NONE faults", faults == 2);

	signal(SIGSEGV, SIG_DFL);
	printf("about to fault\n");
	*(volatile int *)p = 1; /* PROT_NONE: SIGSEGV, default action */
	printf("FAIL still alive\n");
	return 1;
}
