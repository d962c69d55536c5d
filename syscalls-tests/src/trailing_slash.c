/*
 * trailing_slash: a trailing "/" requires the final component to be a
 * directory (path_resolution(7)).
 * - open/stat/unlink "file/" -> ENOTDIR; stat "dir/" works
 * - mkdir "new/" works; open("new2/", O_CREAT) -> EISDIR
 * - rmdir "dir/" works; rename "file" to "x/" -> ENOTDIR
 * - a symlink to a dir with a trailing slash is followed (lstat says dir)
 * - "dir//sub" and "dir/./sub" resolve like "dir/sub"
 */
#include "t.h"

int main(void)
{
	struct stat st;

	t_tmpdir("trailing_slash");
	t_writefile("file", "x");
	MUST("mkdir", mkdir("dir", 0755));
	MUST("mkdir", mkdir("dir/sub", 0755));
	MUST("symlink", symlink("dir", "dl"));
	MUST("symlink", symlink("file", "fl"));
	EXPECT_ERRNO("open file/ -> ENOTDIR", open("file/", O_RDONLY), ENOTDIR);
	EXPECT_ERRNO("stat file/ -> ENOTDIR", stat("file/", &st), ENOTDIR);
	EXPECT_ERRNO("lstat file/ -> ENOTDIR", lstat("file/", &st), ENOTDIR);
	EXPECT_ERRNO("unlink file/ -> ENOTDIR", unlink("file/"), ENOTDIR);
	EXPECT_ERRNO("stat symlink-to-file/ -> ENOTDIR", stat("fl/", &st), ENOTDIR);
	CHECK("stat dir/", stat("dir/", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK("stat dir///", stat("dir///", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK("lstat symlink-to-dir/ follows", lstat("dl/", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK("lstat symlink-to-dir without slash", lstat("dl", &st) == 0 && S_ISLNK(st.st_mode));
	SYSOK("mkdir new/", mkdir("new/", 0755));
	CHECK("new is dir", stat("new", &st) == 0 && S_ISDIR(st.st_mode));
	EXPECT_ERRNO("open(missing/, O_CREAT) -> EISDIR", open("new2/", O_CREAT | O_WRONLY, 0644), EISDIR);
	EXPECT_ERRNO("rename file to x/ -> ENOTDIR", rename("file", "x/"), ENOTDIR);
	EXPECT_ERRNO("rename file/ to x -> ENOTDIR", rename("file/", "x"), ENOTDIR);
	SYSOK("rename dir/ to moved/", rename("new/", "moved/"));
	SYSOK("rmdir moved/", rmdir("moved/"));
	CHECK("dir//sub", stat("dir//sub", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK("dir/./sub", stat("dir/./sub", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK("dir/sub/../sub", stat("dir/sub/../sub", &st) == 0 && S_ISDIR(st.st_mode));
	EXPECT_ERRNO("file/.. -> ENOTDIR", stat("file/..", &st), ENOTDIR);
	int fd = open("dir/", O_RDONLY);
	CHECK("open dir/ O_RDONLY", fd >= 0);
	close(fd);
	return t_done();
}
