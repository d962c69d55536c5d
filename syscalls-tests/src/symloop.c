/*
 * symloop: symlink loops and the nesting limit (path_resolution(7): at most
 * 40 symlinks are followed while resolving one path -> ELOOP).
 * - a -> b -> a: open/stat -> ELOOP; lstat still works
 * - self -> self -> ELOOP; a loop used as a directory component -> ELOOP
 * - a chain of 40 links resolves; a chain of 41 -> ELOOP
 */
#include "t.h"

int main(void)
{
	struct stat st;
	char a[32], b[32];

	t_tmpdir("symloop");
	MUST("symlink", symlink("loop_b", "loop_a"));
	MUST("symlink", symlink("loop_a", "loop_b"));
	MUST("symlink", symlink("self", "self"));
	EXPECT_ERRNO("open a<->b loop -> ELOOP", open("loop_a", O_RDONLY), ELOOP);
	EXPECT_ERRNO("stat a<->b loop -> ELOOP", stat("loop_b", &st), ELOOP);
	CHECK("lstat loop works", lstat("loop_a", &st) == 0 && S_ISLNK(st.st_mode));
	EXPECT_ERRNO("self loop -> ELOOP", stat("self", &st), ELOOP);
	EXPECT_ERRNO("loop as dir component -> ELOOP", stat("loop_a/x", &st), ELOOP);
	EXPECT_ERRNO("O_CREAT through loop -> ELOOP", open("self", O_CREAT | O_WRONLY, 0644), ELOOP);

	/* chain: c0 -> file, c1 -> c0, ..., c41 -> c40 */
	t_writefile("file", "x");
	MUST("symlink", symlink("file", "c0"));
	for (int i = 1; i <= 41; i++) {
		snprintf(a, sizeof a, "c%d", i - 1);
		snprintf(b, sizeof b, "c%d", i);
		MUST("symlink", symlink(a, b));
	}
	SYSOK("chain of 40 links (c39) resolves", stat("c39", &st));
	SYSOK("chain of 40 links via open", open("c39", O_RDONLY));
	EXPECT_ERRNO("chain of 41 links (c40) -> ELOOP", stat("c40", &st), ELOOP);
	EXPECT_ERRNO("chain of 42 links (c41) -> ELOOP", open("c41", O_RDONLY), ELOOP);
	return t_done();
}
