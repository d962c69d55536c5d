/*
 * open_flags: open(2)/openat(2)/creat(2) flag semantics.
 * - O_CREAT|O_EXCL on an existing file -> EEXIST
 * - O_DIRECTORY on a regular file -> ENOTDIR
 * - O_NOFOLLOW on a symlink (last component) -> ELOOP
 * - O_TRUNC empties the file; O_APPEND writes land at the end
 * - O_CLOEXEC is visible as FD_CLOEXEC via fcntl(F_GETFD)
 * - creat() == open(O_CREAT|O_WRONLY|O_TRUNC)
 * - missing file -> ENOENT; missing parent with O_CREAT -> ENOENT;
 *   a file used as a directory -> ENOTDIR
 * - reading an O_WRONLY fd / writing an O_RDONLY fd -> EBADF
 */
#include "t.h"

int main(void)
{
	char buf[64];
	struct stat st;
	int fd;

	t_tmpdir("open_flags");
	t_writefile("f", "hello world");
	MUST("symlink", symlink("f", "ln"));
	MUST("mkdir", mkdir("d", 0755));

	EXPECT_ERRNO("O_CREAT|O_EXCL existing -> EEXIST",
		     open("f", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	EXPECT_ERRNO("O_CREAT|O_EXCL on symlink -> EEXIST",
		     open("ln", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	fd = open("new", O_CREAT | O_EXCL | O_WRONLY, 0644);
	CHECK("O_CREAT|O_EXCL new file", fd >= 0);
	close(fd);
	EXPECT_ERRNO("O_DIRECTORY on file -> ENOTDIR",
		     open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
	fd = open("d", O_RDONLY | O_DIRECTORY);
	CHECK("O_DIRECTORY on dir", fd >= 0);
	close(fd);
	EXPECT_ERRNO("O_NOFOLLOW on symlink -> ELOOP",
		     open("ln", O_RDONLY | O_NOFOLLOW), ELOOP);
	fd = open("f", O_RDONLY | O_NOFOLLOW);
	CHECK("O_NOFOLLOW on regular file", fd >= 0);
	close(fd);
	fd = open("ln", O_RDONLY);
	CHECK("symlink followed by default", fd >= 0);
	memset(buf, 0, sizeof buf);
	CHECK("read through symlink", read(fd, buf, sizeof buf) == 11 &&
					   strcmp(buf, "hello world") == 0);
	close(fd);

	fd = open("f", O_WRONLY | O_TRUNC);
	CHECK("O_TRUNC open", fd >= 0);
	CHECK("O_TRUNC size 0", fstat(fd, &st) == 0 && st.st_size == 0);
	CHECK("write after trunc", write(fd, "abc", 3) == 3);
	close(fd);
	fd = open("f", O_WRONLY | O_APPEND);
	CHECK("O_APPEND open", fd >= 0);
	CHECK("lseek to 0 on append fd", lseek(fd, 0, SEEK_SET) == 0);
	CHECK("append write", write(fd, "def", 3) == 3);
	CHECK("offset at end after append", lseek(fd, 0, SEEK_CUR) == 6);
	close(fd);
	fd = open("f", O_RDONLY);
	memset(buf, 0, sizeof buf);
	CHECK("append landed at end", read(fd, buf, sizeof buf) == 6 &&
					  strcmp(buf, "abcdef") == 0);
	EXPECT_ERRNO("write on O_RDONLY fd -> EBADF", write(fd, "x", 1), EBADF);
	close(fd);
	fd = open("f", O_WRONLY);
	EXPECT_ERRNO("read on O_WRONLY fd -> EBADF", read(fd, buf, 1), EBADF);
	close(fd);

	fd = open("f", O_RDONLY | O_CLOEXEC);
	CHECK("O_CLOEXEC sets FD_CLOEXEC", fcntl(fd, F_GETFD) == FD_CLOEXEC);
	close(fd);
	fd = open("f", O_RDONLY);
	CHECK("no O_CLOEXEC -> flags 0", fcntl(fd, F_GETFD) == 0);
	close(fd);

	fd = creat("c", 0600);
	CHECK("creat", fd >= 0);
	CHECK("creat fd is write-only", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY);
	CHECK("creat mode 0600", fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600);
	close(fd);
	t_writefile("c", "xyz");
	fd = creat("c", 0644);
	CHECK("creat truncates", fstat(fd, &st) == 0 && st.st_size == 0);
	CHECK("creat keeps existing mode", (st.st_mode & 0777) == 0600);
	close(fd);

	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	fd = openat(dfd, "inner", O_CREAT | O_WRONLY, 0644);
	CHECK("openat relative to dirfd", fd >= 0);
	close(fd);
	CHECK("file created inside dir", stat("d/inner", &st) == 0);
	fd = openat(dfd, t_dir, O_RDONLY | O_DIRECTORY);
	CHECK("openat absolute path ignores dirfd", fd >= 0);
	close(fd);
	fd = openat(AT_FDCWD, "f", O_RDONLY);
	CHECK("openat AT_FDCWD", fd >= 0);
	close(fd);
	int ffd = open("f", O_RDONLY);
	EXPECT_ERRNO("openat with file as dirfd -> ENOTDIR",
		     openat(ffd, "x", O_RDONLY), ENOTDIR);
	EXPECT_ERRNO("openat with closed dirfd -> EBADF",
		     openat(999, "x", O_RDONLY), EBADF);
	close(ffd);
	close(dfd);

	EXPECT_ERRNO("missing file -> ENOENT", open("nope", O_RDONLY), ENOENT);
	EXPECT_ERRNO("O_CREAT in missing dir -> ENOENT",
		     open("nodir/x", O_CREAT | O_WRONLY, 0644), ENOENT);
	EXPECT_ERRNO("file as path component -> ENOTDIR",
		     open("f/x", O_RDONLY), ENOTDIR);
	EXPECT_ERRNO("empty path -> ENOENT", open("", O_RDONLY), ENOENT);
	return t_done();
}
