/*
 * nametoolong: ENAMETOOLONG (path_resolution(7), open(2)).
 * - a component of 255 bytes is allowed (create, stat, unlink work);
 *   256 bytes -> ENAMETOOLONG, also for a component in the middle
 * - a path of 4096 bytes including the NUL (PATH_MAX) -> ENAMETOOLONG;
 *   4095 characters is within the limit (fails with ENOENT instead)
 * - symlink targets longer than PATH_MAX-1 -> ENAMETOOLONG
 */
#include "t.h"
#include <limits.h>

int main(void)
{
	static char name[300], path[PATH_MAX + 16];
	struct stat st;

	t_tmpdir("nametoolong");
	memset(name, 'n', 255);
	name[255] = 0;
	int fd = open(name, O_CREAT | O_WRONLY, 0644);
	CHECK("create 255-byte name", fd >= 0);
	close(fd);
	SYSOK("stat 255-byte name", stat(name, &st));
	SYSOK("mkdir 255-byte name", mkdir("dir", 0755));
	SYSOK("unlink 255-byte name", unlink(name));
	memset(name, 'n', 256);
	name[256] = 0;
	EXPECT_ERRNO("open 256-byte name -> ENAMETOOLONG", open(name, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
	EXPECT_ERRNO("stat 256-byte name -> ENAMETOOLONG", stat(name, &st), ENAMETOOLONG);
	EXPECT_ERRNO("mkdir 256-byte name -> ENAMETOOLONG", mkdir(name, 0755), ENAMETOOLONG);
	snprintf(path, sizeof path, "%s/x", name);
	EXPECT_ERRNO("256-byte middle component -> ENAMETOOLONG", stat(path, &st), ENAMETOOLONG);

	/* "./././..../x": valid components, total length controlled exactly. */
	int len = PATH_MAX;     /* 4096 chars + NUL > PATH_MAX */
	for (int i = 0; i < len; i++)
		path[i] = (i % 2 == 0) ? '.' : '/';
	path[len - 1] = 'x';
	path[len] = 0;
	EXPECT_ERRNO("path of 4096 chars -> ENAMETOOLONG", stat(path, &st), ENAMETOOLONG);
	EXPECT_ERRNO("open path of 4096 chars -> ENAMETOOLONG", open(path, O_RDONLY), ENAMETOOLONG);
	path[len - 2] = 'x';
	path[len - 1] = 0;  /* 4095 chars */
	EXPECT_ERRNO("path of 4095 chars -> ENOENT", stat(path, &st), ENOENT);
	memset(path, 'a', PATH_MAX);
	path[PATH_MAX] = 0;
	EXPECT_ERRNO("symlink target of 4096 chars -> ENAMETOOLONG", symlink(path, "ln"), ENAMETOOLONG);
	return t_done();
}
