/*
 * umask: umask(2) returns the previous mask and is applied to the mode of
 * open(O_CREAT), mkdir(2) and mknod-like creations; it is not applied by
 * chmod(2). Only the low 9 bits (0777) are kept.
 */
#include "t.h"

static unsigned mode(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (st.st_mode & 07777) : 0xffff;
}

int main(void)
{
	t_tmpdir("umask");
	umask(022);
	EXPECT_EQ("umask returns previous (022)", umask(077), 022);
	EXPECT_EQ("umask returns previous (077)", umask(027), 077);
	int fd = open("f", O_CREAT | O_WRONLY, 0666);
	close(fd);
	EXPECT_EQ("file 0666 & ~027 = 0640", mode("f"), 0640);
	MUST("mkdir", mkdir("d", 0777));
	EXPECT_EQ("dir 0777 & ~027 = 0750", mode("d"), 0750);
	SYSOK("chmod ignores umask", chmod("f", 0777));
	EXPECT_EQ("chmod 0777 exact", mode("f"), 0777);
	umask(0);
	fd = open("g", O_CREAT | O_WRONLY, 0666);
	close(fd);
	EXPECT_EQ("umask 0: file 0666", mode("g"), 0666);
	EXPECT_EQ("umask keeps only 0777 bits", umask(07777), 0);
	EXPECT_EQ("umask(07777) stored as 0777", umask(022), 0777);
	MUST("symlink", symlink("g", "ln"));
	struct stat st;
	CHECK("symlink mode 0777 regardless of umask", lstat("ln", &st) == 0 && (st.st_mode & 0777) == 0777);
	return t_done();
}
