/*
 * proc_fd_magic: /proc/self/fd/N and /dev/fd/N are magic links
 * (proc_fd_link()): opening one opens the object the descriptor refers to,
 * not a path named by the link's text.
 * - a pipe's read end reopened reads what the write end wrote; the write
 *   end reopened (also with O_CREAT|O_TRUNC, as "> /dev/stdout" does) writes
 *   into the same pipe; stat through the link reports a FIFO
 * - a deleted file stays reachable through its descriptor's link
 * - /proc/self/cwd jumps to the working directory
 * - an eventfd cannot be reopened (ENXIO); O_DIRECTORY on a pipe: ENOTDIR
 * - a path continuing past a pipe link: ENOTDIR
 */
#include "t.h"
#include <sys/eventfd.h>

int main(void)
{
	int p[2];
	MUST("pipe", pipe(p));
	char path[64], buf[16] = {0};
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
	int w = open(path, O_WRONLY);
	MUST("reopen write end", w);
	SYSOK("write through reopened end", write(w, "hi", 2));
	snprintf(path, sizeof path, "/dev/fd/%d", p[0]);
	int r = open(path, O_RDONLY);
	MUST("reopen read end via /dev/fd", r);
	CHECK("read what was written", read(r, buf, sizeof buf) == 2 && memcmp(buf, "hi", 2) == 0);
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
	int w2 = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	MUST("O_CREAT|O_TRUNC on a pipe link", w2);
	SYSOK("write", write(w2, "yo", 2));
	CHECK("same pipe", read(p[0], buf, sizeof buf) == 2 && memcmp(buf, "yo", 2) == 0);
	struct stat st;
	SYSOK("stat through link", stat(path, &st));
	CHECK("is a FIFO", S_ISFIFO(st.st_mode));
	SYSOK("lstat the link", lstat(path, &st));
	CHECK("link itself is a symlink", S_ISLNK(st.st_mode));
	EXPECT_ERRNO("O_DIRECTORY on a pipe -> ENOTDIR", open(path, O_RDONLY | O_DIRECTORY), ENOTDIR);
	char sub[80];
	snprintf(sub, sizeof sub, "%s/x", path);
	EXPECT_ERRNO("path past a pipe -> ENOTDIR", open(sub, O_RDONLY), ENOTDIR);

	t_tmpdir("proc_fd_magic");
	t_writefile("f", "content");
	int f = open("f", O_RDONLY);
	MUST("open f", f);
	MUST("unlink f", unlink("f"));
	snprintf(path, sizeof path, "/proc/self/fd/%d", f);
	int f2 = open(path, O_RDONLY);
	MUST("reopen deleted file", f2);
	memset(buf, 0, sizeof buf);
	CHECK("deleted file readable", read(f2, buf, sizeof buf) == 7 && strcmp(buf, "content") == 0);
	MUST("mkdir d", mkdir("d", 0755));
	MUST("chdir d", chdir("d"));
	t_writefile("inside", "x");
	CHECK("/proc/self/cwd jumps", access("/proc/self/cwd/inside", F_OK) == 0);
	MUST("chdir ..", chdir(".."));

	int e = eventfd(0, 0);
	snprintf(path, sizeof path, "/proc/self/fd/%d", e);
	EXPECT_ERRNO("eventfd cannot be reopened -> ENXIO", open(path, O_RDWR), ENXIO);
	return t_done();
}
