/*
 * cwd: getcwd(3)/getcwd syscall, chdir(2), fchdir(2).
 * - getcwd returns the absolute path after chdir (compared, not printed)
 * - relative paths resolve against the new cwd
 * - the syscall returns the length including the NUL; a too small buffer
 *   -> ERANGE; size 0 -> ERANGE (raw syscall)
 * - chdir to a file -> ENOTDIR; to a missing dir -> ENOENT
 * - fchdir on a file fd -> ENOTDIR; fchdir on a dir fd works
 */
#include "t.h"
#include <limits.h>

int main(void)
{
	char buf[PATH_MAX], want[PATH_MAX], tiny[4];
	struct stat st;

	t_tmpdir("cwd");
	MUST("mkdir", mkdir("a", 0755));
	MUST("mkdir", mkdir("a/b", 0755));
	t_writefile("a/b/f", "x");
	CHECK("getcwd is the tmpdir", getcwd(buf, sizeof buf) && strcmp(buf, t_dir) == 0);
	long r = syscall(SYS_getcwd, buf, sizeof buf);
	EXPECT_EQ("raw getcwd returns strlen+1", r, (long)strlen(t_dir) + 1);
	SYSOK("chdir a/b", chdir("a/b"));
	snprintf(want, sizeof want, "%s/a/b", t_dir);
	CHECK("getcwd after chdir", getcwd(buf, sizeof buf) && strcmp(buf, want) == 0);
	CHECK("relative open in new cwd", stat("f", &st) == 0 && S_ISREG(st.st_mode));
	SYSOK("chdir ..", chdir(".."));
	snprintf(want, sizeof want, "%s/a", t_dir);
	CHECK("getcwd after ..", getcwd(buf, sizeof buf) && strcmp(buf, want) == 0);
	EXPECT_ERRNO("raw getcwd tiny buffer -> ERANGE", syscall(SYS_getcwd, tiny, sizeof tiny), ERANGE);
	EXPECT_ERRNO("raw getcwd size 0 -> ERANGE", syscall(SYS_getcwd, tiny, 0), ERANGE);
	EXPECT_ERRNO("chdir file -> ENOTDIR", chdir("b/f"), ENOTDIR);
	EXPECT_ERRNO("chdir missing -> ENOENT", chdir("nope"), ENOENT);
	EXPECT_ERRNO("chdir empty -> ENOENT", chdir(""), ENOENT);
	int dfd = open(t_dir, O_RDONLY | O_DIRECTORY);
	int ffd = open("b/f", O_RDONLY);
	EXPECT_ERRNO("fchdir file fd -> ENOTDIR", fchdir(ffd), ENOTDIR);
	SYSOK("fchdir dir fd", fchdir(dfd));
	CHECK("getcwd after fchdir", getcwd(buf, sizeof buf) && strcmp(buf, t_dir) == 0);
	SYSOK("chdir /", chdir("/"));
	CHECK("getcwd /", getcwd(buf, sizeof buf) && strcmp(buf, "/") == 0);
	EXPECT_EQ("raw getcwd of / returns 2", syscall(SYS_getcwd, buf, sizeof buf), 2);
	close(dfd);
	close(ffd);
	return t_done();
}
