/*
 * getdents: getdents64(2) lists every entry exactly once, including "." and
 * "..", with correct d_type (DT_DIR, DT_REG, DT_LNK); the names, sorted,
 * are printed. Also:
 * - reading again at the end returns 0; lseek(fd, 0, SEEK_SET) rewinds
 * - a buffer too small for one entry -> EINVAL
 * - on a regular file -> ENOTDIR
 * - small buffers still return all entries over several calls
 */
#include "t.h"
#include <dirent.h>

struct ent {
	char name[256];
	int type;
};

static int cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

static int list(int fd, size_t bufsz, struct ent *out, int max)
{
	char buf[4096];
	int n = 0;
	for (;;) {
		long r = syscall(SYS_getdents64, fd, buf, bufsz);
		if (r <= 0)
			return r < 0 ? -1 : n;
		for (long off = 0; off < r;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			if (n < max) {
				snprintf(out[n].name, sizeof out[n].name, "%s", d->d_name);
				out[n].type = d->d_type;
			}
			n++;
			off += d->d_reclen;
		}
	}
}

static const char *tname(int t)
{
	switch (t) {
	case DT_DIR: return "dir";
	case DT_REG: return "reg";
	case DT_LNK: return "lnk";
	default: return "other";
	}
}

int main(void)
{
	struct ent e[64];
	static char big[4096];
	char name[32];
	int n, fd;

	t_tmpdir("getdents");
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "file%02d", (i * 7) % 20);
		t_writefile(name, "x");
	}
	MUST("mkdir", mkdir("zdir", 0755));
	MUST("mkdir", mkdir("adir", 0755));
	MUST("symlink", symlink("file00", "link"));

	fd = open(".", O_RDONLY | O_DIRECTORY);
	n = list(fd, 4096, e, 64);
	EXPECT_EQ("entry count (20 files + 2 dirs + link + . + ..)", n, 25);
	qsort(e, n < 64 ? n : 64, sizeof e[0], cmp);
	for (int i = 0; i < n && i < 64; i++)
		printf("entry %s %s\n", e[i].name, tname(e[i].type));
	EXPECT_EQ("at end returns 0", syscall(SYS_getdents64, fd, big, sizeof big), 0);
	EXPECT_EQ("rewind", lseek(fd, 0, SEEK_SET), 0);
	EXPECT_EQ("small buffer (80 bytes) still lists all", list(fd, 80, e, 64), 25);
	lseek(fd, 0, SEEK_SET);
	EXPECT_ERRNO("buffer too small for one entry -> EINVAL", syscall(SYS_getdents64, fd, name, 8), EINVAL);
	close(fd);
	int ffd = open("file00", O_RDONLY);
	EXPECT_ERRNO("getdents64 on file -> ENOTDIR", syscall(SYS_getdents64, ffd, e, sizeof e), ENOTDIR);
	close(ffd);
	fd = open("adir", O_RDONLY | O_DIRECTORY);
	n = list(fd, 4096, e, 64);
	EXPECT_EQ("empty dir has 2 entries", n, 2);
	close(fd);
	return t_done();
}
