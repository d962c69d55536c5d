/*
 * e.h - helpers for the escape programs (syscalls-tests/escape).
 *
 * Each program is an attack: it runs inside `pangolin do` and tries to
 * reach the host. It prints "ok <what>" when an attempt fails the way the
 * sandbox documents (usually an errno) or stays contained, and "FAIL ..."
 * otherwise, then PASSED / FAILED n. The Go harness (escape_test.go) runs
 * it inside namespaces and a cgroup of its own and checks the host
 * afterwards.
 *
 * The harness tells the programs where the host's secrets are, in the
 * environment:
 *   ESCAPE_CANARY  absolute host path of a file outside the rootfs
 *   ESCAPE_SECRET  its contents (which the sandbox must never read)
 *   ESCAPE_VICTIM  PID, on the host, of a process the test watches
 *   ESCAPE_ROOT    the rootfs' host path (to build relative climbs)
 * and plants traps in the rootfs under /escape (see escape_test.go).
 */
#ifndef PANGOLIN_E_H
#define PANGOLIN_E_H

#include "../../src/t.h"

#include <sys/wait.h>

/* e_env returns environment variable name, or exits if it is missing. */
static inline const char *e_env(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		t_fail("setup: %s not set (run through escape_test.go)", name);
		exit(2);
	}
	return v;
}

static inline const char *e_canary(void) { return e_env("ESCAPE_CANARY"); }
static inline const char *e_secret(void) { return e_env("ESCAPE_SECRET"); }

/*
 * e_reads_secret reports whether path can be opened and read and holds the
 * host secret. Any failure to open or read counts as "no".
 */
static inline int e_reads_secret(const char *path)
{
	char buf[512];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, e_secret()) != NULL;
}

/* NO_SECRET checks that path does not lead to the host secret. */
#define NO_SECRET(what, path)                                              \
	do {                                                               \
		if (e_reads_secret(path))                                  \
			t_fail("%s: read the host secret", what);          \
		else                                                       \
			t_ok(what);                                        \
	} while (0)

/* EXPECT_ERRNO2 passes if expr fails with errno a or b. */
#define EXPECT_ERRNO2(what, expr, a, b)                                    \
	do {                                                               \
		errno = 0;                                                 \
		long e_r_ = (long)(expr);                                  \
		int e_e_ = errno;                                          \
		if (e_r_ == -1 && (e_e_ == (a) || e_e_ == (b)))            \
			t_ok(what);                                        \
		else                                                       \
			t_fail("%s: ret=%s errno=%s, want %s or %s", what, \
			       e_r_ == -1 ? "-1" : "success",              \
			       t_errname(e_e_), t_errname(a), t_errname(b)); \
	} while (0)

/*
 * e_in_child runs fn in a forked child and returns its wait status, so that
 * an attempt that kills its process (a fork bomb, exhaustion) does not
 * take the program's verdict with it.
 */
static inline int e_in_child(void (*fn)(void))
{
	pid_t p = fork();
	if (p < 0) {
		t_fail("setup fork: errno=%s", t_errname(errno));
		exit(2);
	}
	if (p == 0) {
		fn();
		_exit(0);
	}
	int st;
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

#endif
