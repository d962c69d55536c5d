/*
 * utimensat: utimensat(2) and futimens(3).
 * - explicit atime/mtime read back exactly (seconds and nanoseconds)
 * - UTIME_OMIT leaves a time unchanged; UTIME_NOW sets it to the current
 *   time (>= a realtime sample taken before the call, within seconds)
 * - times == NULL sets both to now
 * - writing to a file advances mtime past an old explicit value
 * - tv_nsec out of range -> EINVAL; bad flags -> EINVAL; missing -> ENOENT
 * - AT_SYMLINK_NOFOLLOW changes the link's times, not the target's
 */
#include "t.h"
#include <time.h>

int main(void)
{
	struct stat st;
	struct timespec now;
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1200000000, 987654321 } };

	t_tmpdir("utimensat");
	t_writefile("f", "x");
	MUST("symlink", symlink("f", "ln"));
	SYSOK("utimensat explicit", utimensat(AT_FDCWD, "f", ts, 0));
	MUST("stat", stat("f", &st));
	CHECK("atime read back", st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 123456789);
	CHECK("mtime read back", st.st_mtim.tv_sec == 1200000000 && st.st_mtim.tv_nsec == 987654321);

	struct timespec omit[2] = { { 0, UTIME_OMIT }, { 1300000000, 0 } };
	SYSOK("utimensat UTIME_OMIT atime", utimensat(AT_FDCWD, "f", omit, 0));
	MUST("stat", stat("f", &st));
	CHECK("atime kept", st.st_atim.tv_sec == 1000000000);
	CHECK("mtime set", st.st_mtim.tv_sec == 1300000000 && st.st_mtim.tv_nsec == 0);

	clock_gettime(CLOCK_REALTIME, &now);
	struct timespec nowt[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	SYSOK("utimensat UTIME_NOW mtime", utimensat(AT_FDCWD, "f", nowt, 0));
	MUST("stat", stat("f", &st));
	CHECK("mtime is now", st.st_mtim.tv_sec >= now.tv_sec - 1 && st.st_mtim.tv_sec <= now.tv_sec + 5);
	CHECK("atime still kept", st.st_atim.tv_sec == 1000000000);

	int fd = open("f", O_WRONLY);
	SYSOK("futimens explicit", futimens(fd, ts));
	CHECK("futimens read back", fstat(fd, &st) == 0 && st.st_mtim.tv_sec == 1200000000);
	CHECK("write", write(fd, "y", 1) == 1);
	CHECK("mtime advanced by write", fstat(fd, &st) == 0 && st.st_mtim.tv_sec >= now.tv_sec - 1);
	SYSOK("futimens NULL", futimens(fd, NULL));
	CHECK("NULL sets atime to now", fstat(fd, &st) == 0 && st.st_atim.tv_sec >= now.tv_sec - 1);
	close(fd);

	struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
	EXPECT_ERRNO("tv_nsec 1e9 -> EINVAL", utimensat(AT_FDCWD, "f", bad, 0), EINVAL);
	EXPECT_ERRNO("bad flags -> EINVAL", utimensat(AT_FDCWD, "f", ts, 0x8000), EINVAL);
	EXPECT_ERRNO("missing -> ENOENT", utimensat(AT_FDCWD, "nope", ts, 0), ENOENT);
	SYSOK("AT_SYMLINK_NOFOLLOW on link", utimensat(AT_FDCWD, "ln", ts, AT_SYMLINK_NOFOLLOW));
	CHECK("link mtime set", lstat("ln", &st) == 0 && st.st_mtim.tv_sec == 1200000000);
	CHECK("target untouched", stat("f", &st) == 0 && st.st_mtim.tv_sec != 1200000000);
	return t_done();
}
