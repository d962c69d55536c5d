/*
 * t.h - tiny check helpers shared by the differential syscall tests.
 *
 * Every program prints one line per check, "ok <what>" or
 * "FAIL <what>: ...", and ends with t_done(), which prints "PASSED" or
 * "FAILED n" and returns the exit status (0 or 1). The output must be
 * identical natively and in the sandbox, so checks print only booleans and
 * errno names, never pids, inode numbers, addresses or times.
 *
 * stdout is made line-buffered so that a program killed mid-way (see segv.c)
 * still shows the checks it passed.
 */
#ifndef PANGOLIN_T_H
#define PANGOLIN_T_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static int t_failures __attribute__((unused));

/* t_errname returns the symbolic name of errno value e ("EBADF"). */
static inline const char *t_errname(int e)
{
	switch (e) {
	case 0: return "0";
#define E(x) case x: return #x;
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG)
	E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES)
	E(EFAULT) E(ENOTBLK) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV)
	E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY)
	E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK)
	E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOLCK)
	E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EIDRM) E(ENODATA)
	E(EOVERFLOW) E(EBADFD) E(ENOTSOCK) E(EOPNOTSUPP) E(ETIMEDOUT)
	E(ECANCELED)
	E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT)
	E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EAFNOSUPPORT) E(EADDRINUSE)
	E(EADDRNOTAVAIL) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ECONNREFUSED)
	E(ECONNRESET) E(ECONNABORTED) E(ETOOMANYREFS) E(ESHUTDOWN)
#undef E
	default: {
		static char buf[32];
		snprintf(buf, sizeof buf, "errno%d", e);
		return buf;
	}
	}
}

static inline void t_ok(const char *what)
{
	printf("ok %s\n", what);
}

static inline void t_fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	t_failures++;
}

/* CHECK passes if cond is true; on failure it reports errno. */
#define CHECK(what, cond)                                                  \
	do {                                                               \
		errno = 0;                                                 \
		if (cond)                                                  \
			t_ok(what);                                        \
		else                                                       \
			t_fail("%s: errno=%s", what, t_errname(errno));    \
	} while (0)

/* SYSOK passes if expr (a syscall-style call) does not return -1. */
#define SYSOK(what, expr)                                                  \
	do {                                                               \
		errno = 0;                                                 \
		long t_r_ = (long)(expr);                                  \
		if (t_r_ != -1)                                            \
			t_ok(what);                                        \
		else                                                       \
			t_fail("%s: errno=%s", what, t_errname(errno));    \
	} while (0)

/* EXPECT_ERRNO passes if expr returns -1 with errno == err. */
#define EXPECT_ERRNO(what, expr, err)                                      \
	do {                                                               \
		errno = 0;                                                 \
		long t_r_ = (long)(expr);                                  \
		int t_e_ = errno;                                          \
		if (t_r_ == -1 && t_e_ == (err))                           \
			t_ok(what);                                        \
		else                                                       \
			t_fail("%s: ret=%s errno=%s, want %s", what,       \
			       t_r_ == -1 ? "-1" : "success",              \
			       t_errname(t_e_), t_errname(err));           \
	} while (0)

/* EXPECT_EQ passes if two integer expressions are equal. */
#define EXPECT_EQ(what, a, b)                                              \
	do {                                                               \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);    \
		if (t_a_ == t_b_)                                          \
			t_ok(what);                                        \
		else                                                       \
			t_fail("%s: got %lld, want %lld", what, t_a_, t_b_); \
	} while (0)

/* Fatal setup step: report and stop. expr may be a value already
 * computed (errno is not reset, so it still describes the failed call). */
#define MUST(what, expr)                                                   \
	do {                                                               \
		if ((long)(expr) == -1) {                                  \
			t_fail("setup %s: errno=%s", what,                 \
			       t_errname(errno));                          \
			exit(2);                                           \
		}                                                          \
	} while (0)

static char t_dir[256] __attribute__((unused));

static inline int t_rm_cb(const char *p, const struct stat *st, int flag,
		   struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

/* t_rmtree removes path recursively, ignoring errors. */
static inline void t_rmtree(const char *path)
{
	nftw(path, t_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void t_cleanup(void)
{
	if (t_dir[0]) {
		chdir("/");
		t_rmtree(t_dir);
	}
}

/*
 * t_tmpdir creates a fresh private directory /tmp/NAME.XXXXXX, makes it
 * the working directory and removes it at exit. Its name is never printed.
 * It also sets umask 022 so that created modes do not depend on the caller.
 */
static inline void t_tmpdir(const char *name)
{
	umask(022);
	snprintf(t_dir, sizeof t_dir, "/tmp/%s.XXXXXX", name);
	if (!mkdtemp(t_dir)) {
		t_fail("setup mkdtemp: errno=%s", t_errname(errno));
		exit(2);
	}
	MUST("chdir tmpdir", chdir(t_dir));
	atexit(t_cleanup);
}

/* t_writefile creates path with the given contents (mode 0644). */
static inline void t_writefile(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	MUST("create file", fd);
	size_t n = strlen(data);
	if (write(fd, data, n) != (ssize_t)n) {
		t_fail("setup write %s", path);
		exit(2);
	}
	close(fd);
}

__attribute__((constructor)) static void t_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* t_done prints the verdict and returns the exit status for main. */
static inline int t_done(void)
{
	if (t_failures) {
		printf("FAILED %d\n", t_failures);
		return 1;
	}
	printf("PASSED\n");
	return 0;
}

#endif
