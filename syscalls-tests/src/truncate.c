/*
 * truncate: truncate(2), ftruncate(2), fsync(2), fdatasync(2).
 * - growing zero-fills; shrinking discards; the offset is unchanged
 * - negative length -> EINVAL; ftruncate on an fd not open for writing
 *   -> EINVAL (the kernel checks FMODE_WRITE, fs/open.c do_ftruncate)
 * - truncate of a missing file -> ENOENT
 * - fsync/fdatasync of a regular file succeed; of a pipe -> EINVAL
 */
#include "t.h"

int main(void)
{
	struct stat st;
	char buf[16];
	int fd, ro, p[2];

	t_tmpdir("truncate");
	fd = open("f", O_RDWR | O_CREAT, 0644);
	MUST("open", fd);
	MUST("write", write(fd, "0123456789", 10));
	SYSOK("ftruncate shrink to 4", ftruncate(fd, 4));
	CHECK("size 4", fstat(fd, &st) == 0 && st.st_size == 4);
	EXPECT_EQ("offset unchanged", lseek(fd, 0, SEEK_CUR), 10);
	SYSOK("ftruncate grow to 8", ftruncate(fd, 8));
	memset(buf, 'x', sizeof buf);
	EXPECT_EQ("read 8", pread(fd, buf, sizeof buf, 0), 8);
	CHECK("kept prefix, zero-filled tail",
	      memcmp(buf, "0123\0\0\0\0", 8) == 0);
	SYSOK("truncate by path to 2", truncate("f", 2));
	CHECK("size 2", fstat(fd, &st) == 0 && st.st_size == 2);
	SYSOK("truncate to 1 MiB", truncate("f", 1 << 20));
	CHECK("size 1 MiB", stat("f", &st) == 0 && st.st_size == 1 << 20);
	EXPECT_ERRNO("ftruncate negative -> EINVAL", ftruncate(fd, -1), EINVAL);
	EXPECT_ERRNO("truncate negative -> EINVAL", truncate("f", -1), EINVAL);
	EXPECT_ERRNO("truncate missing -> ENOENT", truncate("nope", 0), ENOENT);
	ro = open("f", O_RDONLY);
	EXPECT_ERRNO("ftruncate O_RDONLY fd -> EINVAL", ftruncate(ro, 0), EINVAL);
	close(ro);
	SYSOK("fsync", fsync(fd));
	SYSOK("fdatasync", fdatasync(fd));
	close(fd);
	MUST("pipe", pipe(p));
	EXPECT_ERRNO("fsync pipe -> EINVAL", fsync(p[1]), EINVAL);
	EXPECT_ERRNO("ftruncate pipe -> EINVAL", ftruncate(p[1], 0), EINVAL);
	close(p[0]);
	close(p[1]);
	return t_done();
}
