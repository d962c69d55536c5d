/*
 * renameat2: renameat2(2) flags.
 * - RENAME_NOREPLACE onto an existing name -> EEXIST; onto a free name works
 * - RENAME_EXCHANGE swaps two names atomically (file<->file, file<->dir);
 *   with a missing target -> ENOENT
 * - RENAME_NOREPLACE|RENAME_EXCHANGE -> EINVAL; unknown flag -> EINVAL
 */
#include "t.h"
#include <linux/fs.h>

static long r2(const char *a, const char *b, unsigned flags)
{
	return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

static int content(const char *p, const char *want)
{
	char buf[16] = { 0 };
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return 0;
	int n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n >= 0 && strcmp(buf, want) == 0;
}

int main(void)
{
	struct stat st;

	t_tmpdir("renameat2");
	t_writefile("a", "A");
	t_writefile("b", "B");
	MUST("mkdir", mkdir("d", 0755));
	EXPECT_ERRNO("NOREPLACE onto existing -> EEXIST", r2("a", "b", RENAME_NOREPLACE), EEXIST);
	CHECK("nothing changed", content("a", "A") && content("b", "B"));
	SYSOK("NOREPLACE onto free name", r2("a", "c", RENAME_NOREPLACE));
	CHECK("moved", content("c", "A") && stat("a", &st) == -1);
	SYSOK("EXCHANGE files", r2("c", "b", RENAME_EXCHANGE));
	CHECK("swapped contents", content("c", "B") && content("b", "A"));
	SYSOK("EXCHANGE file and dir", r2("c", "d", RENAME_EXCHANGE));
	CHECK("c is now dir, d is file", stat("c", &st) == 0 && S_ISDIR(st.st_mode) && content("d", "B"));
	EXPECT_ERRNO("EXCHANGE with missing -> ENOENT", r2("b", "zz", RENAME_EXCHANGE), ENOENT);
	EXPECT_ERRNO("NOREPLACE|EXCHANGE -> EINVAL", r2("b", "d", RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
	EXPECT_ERRNO("unknown flag -> EINVAL", r2("b", "q", 1u << 20), EINVAL);
	SYSOK("flags 0 behaves like rename", r2("b", "d", 0));
	CHECK("replaced", content("d", "A"));
	return t_done();
}
