/*
 * execveat: execveat(2) and fexecve(3).
 * - a program relative to a directory descriptor runs
 * - AT_EMPTY_PATH runs the file a descriptor refers to (fexecve)
 * - AT_SYMLINK_NOFOLLOW on a symlink: ELOOP
 * - errors: bad flags EINVAL, bad dirfd EBADF, empty path without
 *   AT_EMPTY_PATH ENOENT, a directory EACCES, non-executable EACCES
 */
#include "t.h"
#include <sys/wait.h>

static int run_at(int dirfd, const char *path, int flags)
{
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char *argv[] = {"execveat", "child", NULL};
		char *envp[] = {NULL};
		syscall(SYS_execveat, dirfd, path, argv, envp, flags);
		_exit(100 + errno);
	}
	int st;
	waitpid(c, &st, 0);
	return WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "child") == 0)
		return 42;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	MUST("readlink self", n);
	self[n] = 0;
	char *slash = strrchr(self, '/');
	*slash = 0;
	int dfd = open(self, O_RDONLY | O_DIRECTORY);
	MUST("open dir", dfd);
	EXPECT_EQ("relative to dirfd", run_at(dfd, slash + 1, 0), 42);
	*slash = '/';
	int ffd = open(self, O_RDONLY);
	MUST("open self", ffd);
	EXPECT_EQ("AT_EMPTY_PATH (fexecve)", run_at(ffd, "", AT_EMPTY_PATH), 42);
	char *a[] = {"execveat", "child", NULL}, *e[] = {NULL};
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		fexecve(ffd, a, e);
		_exit(1);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("glibc fexecve", WEXITSTATUS(st) == 42);
	t_tmpdir("execveat");
	MUST("symlink", symlink(self, "link"));
	EXPECT_EQ("symlink followed", run_at(AT_FDCWD, "link", 0), 42);
	EXPECT_EQ("AT_SYMLINK_NOFOLLOW -> ELOOP", run_at(AT_FDCWD, "link", AT_SYMLINK_NOFOLLOW), 100 + ELOOP);
	EXPECT_EQ("bad flags -> EINVAL", run_at(AT_FDCWD, "link", 0x4), 100 + EINVAL);
	EXPECT_EQ("bad dirfd -> EBADF", run_at(999, "x", 0), 100 + EBADF);
	EXPECT_EQ("empty path -> ENOENT", run_at(ffd, "", 0), 100 + ENOENT);
	EXPECT_EQ("directory -> EACCES", run_at(AT_FDCWD, ".", 0), 100 + EACCES);
	t_writefile("plain", "not a program\n");
	EXPECT_EQ("not executable -> EACCES", run_at(AT_FDCWD, "plain", 0), 100 + EACCES);
	chmod("plain", 0755);
	EXPECT_EQ("not an executable format -> ENOEXEC", run_at(AT_FDCWD, "plain", 0), 100 + ENOEXEC);
	return t_done();
}
