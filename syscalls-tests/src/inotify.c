/*
 * inotify: inotify_init, inotify_init1, inotify_add_watch,
 * inotify_rm_watch and the events the VFS reports.
 * - flags (IN_NONBLOCK, IN_CLOEXEC; O_RDONLY), errors in Linux's order
 * - directory watches: IN_CREATE, IN_OPEN, IN_MODIFY (merged when
 *   repeated), IN_CLOSE_WRITE/NOWRITE, IN_ACCESS, IN_ATTRIB,
 *   IN_MOVED_FROM/TO with one cookie, IN_DELETE, IN_ISDIR, events on the
 *   directory itself
 * - file watches: IN_ATTRIB + IN_DELETE_SELF + IN_IGNORED on unlink (the
 *   self-delete waits for the last close), IN_MOVE_SELF
 * - IN_ONESHOT, IN_MASK_ADD, IN_MASK_CREATE, IN_ONLYDIR, IN_DONT_FOLLOW,
 *   inotify_rm_watch's IN_IGNORED, one wd per watched file
 * - reads: record layout, EINVAL for a too-small buffer, FIONREAD,
 *   EAGAIN, blocking, epoll readiness; a tail -f style follower
 */
#include "t.h"
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <dirent.h>

static char got[4096];
static uint32_t cookies[16];
static int ncookies;

static const char *mask_name(uint32_t m)
{
	static char b[128];
	b[0] = 0;
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"},
		{IN_CLOSE_WRITE, "CLOSE_WRITE"}, {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"},
		{IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"},
		{IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"},
		{IN_MOVE_SELF, "MOVE_SELF"}, {IN_UNMOUNT, "UNMOUNT"}, {IN_Q_OVERFLOW, "Q_OVERFLOW"},
		{IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (m & names[i].bit) {
			if (b[0])
				strcat(b, "|");
			strcat(b, names[i].name);
			m &= ~names[i].bit;
		}
	}
	if (m)
		snprintf(b + strlen(b), sizeof b - strlen(b), "|0x%x", m);
	return b;
}

/* drain reads every queued event (non-blocking) into got as
 * "wd MASK name;" items; it records the cookies seen. */
static const char *drain(int fd)
{
	char buf[8192] __attribute__((aligned(8)));
	got[0] = 0;
	ncookies = 0;
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			char item[300];
			snprintf(item, sizeof item, "%d %s%s%s;", e->wd, mask_name(e->mask), e->len ? " " : "",
				 e->len ? e->name : "");
			strncat(got, item, sizeof got - strlen(got) - 1);
			if (e->cookie && ncookies < 16)
				cookies[ncookies++] = e->cookie;
			p += sizeof *e + e->len;
		}
	}
	fcntl(fd, F_SETFL, fl);
	return got;
}

#define EVENTS(what, fd, want)                                                       \
	do {                                                                         \
		const char *g_ = drain(fd);                                          \
		if (strcmp(g_, want) == 0)                                           \
			t_ok(what);                                                  \
		else                                                                 \
			t_fail("%s: got \"%s\", want \"%s\"", what, g_, want);      \
	} while (0)

static void wr(const char *path, const char *s, int flags)
{
	int fd = open(path, O_WRONLY | flags, 0644);
	MUST("open for write", fd);
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		t_fail("setup write");
	close(fd);
}

static void errors(void)
{
	EXPECT_ERRNO("init1 bad flag -> EINVAL", inotify_init1(1), EINVAL);
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	MUST("inotify_init1", in);
	EXPECT_EQ("IN_CLOEXEC sets FD_CLOEXEC", fcntl(in, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ("F_GETFL is O_RDONLY|O_NONBLOCK", fcntl(in, F_GETFL), O_RDONLY | O_NONBLOCK);
	int in0 = inotify_init();
	MUST("inotify_init", in0);
	EXPECT_EQ("inotify_init: O_RDONLY", fcntl(in0, F_GETFL), O_RDONLY);
	close(in0);
	struct stat st;
	SYSOK("fstat", fstat(in, &st));
	EXPECT_EQ("mode 0600", st.st_mode, 0600);
	char path[64], link[64] = {0};
	snprintf(path, sizeof path, "/proc/self/fd/%d", in);
	SYSOK("readlink /proc/self/fd", readlink(path, link, sizeof link - 1));
	CHECK("named anon_inode:inotify", strcmp(link, "anon_inode:inotify") == 0);

	t_writefile("file", "x");
	MUST("mkdir", mkdir("dir", 0755));
	MUST("symlink", symlink("dir", "link"));
	EXPECT_ERRNO("mask 0 -> EINVAL", inotify_add_watch(in, "file", 0), EINVAL);
	EXPECT_ERRNO("only an unknown bit -> EINVAL", inotify_add_watch(in, "file", 0x08000000), EINVAL);
	int ow = inotify_add_watch(in, "file", IN_ONESHOT);
	EXPECT_EQ("only IN_ONESHOT is a valid mask", ow, 1);
	EXPECT_ERRNO("MASK_ADD|MASK_CREATE -> EINVAL", inotify_add_watch(in, "file", IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE), EINVAL);
	EXPECT_ERRNO("mask checked before fd", inotify_add_watch(-1, "file", 0), EINVAL);
	EXPECT_ERRNO("bad fd -> EBADF", inotify_add_watch(-1, "file", IN_MODIFY), EBADF);
	int efd = eventfd(0, 0);
	EXPECT_ERRNO("not inotify -> EINVAL", inotify_add_watch(efd, "file", IN_MODIFY), EINVAL);
	EXPECT_ERRNO("rm_watch not inotify -> EINVAL", inotify_rm_watch(efd, 1), EINVAL);
	close(efd);
	EXPECT_ERRNO("missing path -> ENOENT", inotify_add_watch(in, "nope", IN_MODIFY), ENOENT);
	EXPECT_ERRNO("bad path -> EFAULT", inotify_add_watch(in, (char *)1, IN_MODIFY), EFAULT);
	EXPECT_ERRNO("IN_ONLYDIR on a file -> ENOTDIR", inotify_add_watch(in, "file", IN_MODIFY | IN_ONLYDIR), ENOTDIR);
	int wd = inotify_add_watch(in, "file", IN_MODIFY);
	EXPECT_EQ("updating keeps wd 1", wd, 1);
	EXPECT_EQ("same file, same wd", inotify_add_watch(in, "./file", IN_ATTRIB), 1);
	EXPECT_ERRNO("IN_MASK_CREATE on a watched file -> EEXIST", inotify_add_watch(in, "file", IN_MODIFY | IN_MASK_CREATE), EEXIST);
	EXPECT_EQ("IN_ONLYDIR on a directory", inotify_add_watch(in, "dir", IN_CREATE | IN_ONLYDIR), 2);
	EXPECT_EQ("via a symlink: the directory's wd", inotify_add_watch(in, "link", IN_CREATE), 2);
	EXPECT_EQ("IN_DONT_FOLLOW: the symlink itself", inotify_add_watch(in, "link", IN_ATTRIB | IN_DONT_FOLLOW), 3);
	EXPECT_ERRNO("rm_watch bad wd -> EINVAL", inotify_rm_watch(in, 99), EINVAL);
	EXPECT_ERRNO("rm_watch bad fd -> EBADF", inotify_rm_watch(-1, 1), EBADF);
	SYSOK("rm_watch", inotify_rm_watch(in, 3));
	EXPECT_ERRNO("rm_watch twice -> EINVAL", inotify_rm_watch(in, 3), EINVAL);
	EVENTS("rm_watch queues IN_IGNORED", in, "3 IGNORED;");
	EXPECT_EQ("wds are not reused at once", inotify_add_watch(in, "link", IN_ATTRIB | IN_DONT_FOLLOW), 4);
	char small[8];
	chmod("file", 0600);
	EXPECT_ERRNO("buffer smaller than an event -> EINVAL", read(in, small, sizeof small), EINVAL);
	int q = 0;
	SYSOK("FIONREAD", ioctl(in, FIONREAD, &q));
	EXPECT_EQ("FIONREAD counts one header", q, 16);
	EVENTS("the event is still there", in, "1 ATTRIB;");
	EXPECT_ERRNO("empty non-blocking -> EAGAIN", read(in, small, sizeof small), EAGAIN);
	close(in);
	unlink("link");
	unlink("file");
	rmdir("dir");
}

static void directory_events(void)
{
	MUST("mkdir d", mkdir("d", 0755));
	int in = inotify_init();
	int wd = inotify_add_watch(in, "d", IN_ALL_EVENTS);
	EXPECT_EQ("dir wd", wd, 1);

	int fd = open("d/f", O_CREAT | O_WRONLY, 0644);
	EVENTS("create: IN_CREATE, IN_OPEN", in, "1 CREATE f;1 OPEN f;");
	write(fd, "a", 1);
	write(fd, "b", 1);
	EVENTS("two writes: one merged IN_MODIFY", in, "1 MODIFY f;");
	close(fd);
	EVENTS("close: IN_CLOSE_WRITE", in, "1 CLOSE_WRITE f;");
	char b[4];
	fd = open("d/f", O_RDONLY);
	read(fd, b, sizeof b);
	read(fd, b, sizeof b);
	close(fd);
	EVENTS("read: OPEN, one ACCESS, CLOSE_NOWRITE", in, "1 OPEN f;1 ACCESS f;1 CLOSE_NOWRITE f;");
	chmod("d/f", 0600);
	EVENTS("chmod: IN_ATTRIB", in, "1 ATTRIB f;");
	truncate("d/f", 0);
	EVENTS("truncate: IN_MODIFY", in, "1 MODIFY f;");
	wr("d/f", "z", O_TRUNC);
	EVENTS("O_TRUNC open and write: OPEN, merged MODIFY", in, "1 OPEN f;1 MODIFY f;1 CLOSE_WRITE f;");
	rename("d/f", "d/g");
	EVENTS("rename: MOVED_FROM, MOVED_TO", in, "1 MOVED_FROM f;1 MOVED_TO g;");
	CHECK("one nonzero cookie for both", ncookies == 2 && cookies[0] == cookies[1] && cookies[0] != 0);
	mkdir("d/sub", 0755);
	rmdir("d/sub");
	EVENTS("mkdir, rmdir: IN_ISDIR", in, "1 CREATE|ISDIR sub;1 DELETE|ISDIR sub;");
	symlink("g", "d/s");
	link("d/g", "d/h");
	unlink("d/s");
	unlink("d/h");
	EVENTS("symlink, link, unlinks", in, "1 CREATE s;1 CREATE h;1 DELETE s;1 DELETE h;");
	DIR *dir = opendir("d");
	while (readdir(dir))
		;
	closedir(dir);
	EVENTS("listing the directory itself", in, "1 OPEN|ISDIR;1 ACCESS|ISDIR;1 CLOSE_NOWRITE|ISDIR;");
	rename("d/g", "moved");
	EVENTS("moved out: MOVED_FROM only", in, "1 MOVED_FROM g;");
	rename("moved", "d/back");
	EVENTS("moved in: MOVED_TO only", in, "1 MOVED_TO back;");
	unlink("d/back");
	EVENTS("unlink", in, "1 DELETE back;");
	rmdir("d");
	EVENTS("the watched directory removed", in, "1 DELETE_SELF;1 IGNORED;");
	close(in);
}

static void file_events(void)
{
	MUST("mkdir e", mkdir("e", 0755));
	t_writefile("e/f", "data");
	int in = inotify_init();
	int dw = inotify_add_watch(in, "e", IN_ALL_EVENTS | IN_EXCL_UNLINK);
	int fw = inotify_add_watch(in, "e/f", IN_ALL_EVENTS);
	CHECK("two watches", dw == 1 && fw == 2);
	wr("e/f", "x", O_APPEND);
	EVENTS("directory first, then the file", in,
	       "1 OPEN f;2 OPEN;1 MODIFY f;2 MODIFY;1 CLOSE_WRITE f;2 CLOSE_WRITE;");
	unlink("e/f");
	EVENTS("unlink: ATTRIB, DELETE_SELF, IGNORED, DELETE", in, "2 ATTRIB;2 DELETE_SELF;2 IGNORED;1 DELETE f;");

	t_writefile("e/f", "data");
	fw = inotify_add_watch(in, "e/f", IN_ALL_EVENTS);
	EXPECT_EQ("new watch, new wd", fw, 3);
	int fd = open("e/f", O_RDONLY);
	drain(in);
	unlink("e/f");
	EVENTS("unlink while open: no DELETE_SELF yet", in, "3 ATTRIB;1 DELETE f;");
	close(fd);
	EVENTS("last close: DELETE_SELF", in, "3 CLOSE_NOWRITE;3 DELETE_SELF;3 IGNORED;");

	t_writefile("e/f", "data");
	t_writefile("e/t", "target");
	fw = inotify_add_watch(in, "e/f", IN_MOVE_SELF | IN_ATTRIB | IN_DELETE_SELF);
	int tw = inotify_add_watch(in, "e/t", IN_ATTRIB | IN_DELETE_SELF);
	drain(in);
	rename("e/f", "e/t");
	EVENTS("rename over a watched file", in, "1 MOVED_FROM f;1 MOVED_TO t;5 ATTRIB;4 MOVE_SELF;5 DELETE_SELF;5 IGNORED;");
	(void)fw;
	(void)tw;

	/* IN_ONESHOT and IN_MASK_ADD. */
	int ow = inotify_add_watch(in, "e/t", IN_OPEN | IN_ONESHOT);
	wr("e/t", "1", O_APPEND);
	wr("e/t", "2", O_APPEND);
	char want[256];
	snprintf(want, sizeof want, "1 OPEN t;%d OPEN;%d IGNORED;1 MODIFY t;1 CLOSE_WRITE t;1 OPEN t;1 MODIFY t;1 CLOSE_WRITE t;", ow, ow);
	EVENTS("IN_ONESHOT: one event, then IN_IGNORED", in, want);
	inotify_rm_watch(in, 1);
	drain(in);
	int mw = inotify_add_watch(in, "e/t", IN_OPEN);
	EXPECT_EQ("IN_MASK_ADD keeps the wd", inotify_add_watch(in, "e/t", IN_CLOSE_WRITE | IN_MASK_ADD), mw);
	wr("e/t", "3", O_APPEND);
	snprintf(want, sizeof want, "%d OPEN;%d CLOSE_WRITE;", mw, mw);
	EVENTS("IN_MASK_ADD: both events", in, want);
	inotify_add_watch(in, "e/t", IN_CLOSE_WRITE);
	wr("e/t", "4", O_APPEND);
	snprintf(want, sizeof want, "%d CLOSE_WRITE;", mw);
	EVENTS("without IN_MASK_ADD: replaced", in, want);
	close(in);
	unlink("e/t");
	rmdir("e");
}

static void reading(void)
{
	MUST("mkdir r", mkdir("r", 0755));
	int in = inotify_init1(IN_NONBLOCK);
	inotify_add_watch(in, "r", IN_CREATE);
	t_writefile("r/abc", "");
	char buf[256] __attribute__((aligned(8)));
	ssize_t n = read(in, buf, sizeof buf);
	struct inotify_event *e = (struct inotify_event *)buf;
	CHECK("record: header + name padded to 16", n == 32 && e->len == 16 && strcmp(e->name, "abc") == 0);
	t_writefile("r/0123456789abcde", "");
	n = read(in, buf, sizeof buf);
	CHECK("15-char name: len 16", n == 32 && e->len == 16);
	t_writefile("r/0123456789abcdef", "");
	n = read(in, buf, sizeof buf);
	CHECK("16-char name: len 32", n == 48 && e->len == 32);
	t_writefile("r/x1", "");
	t_writefile("r/x2", "");
	n = read(in, buf, 40);
	EXPECT_EQ("only whole events fit", n, 32);
	n = read(in, buf, sizeof buf);
	EXPECT_EQ("the rest later", n, 32);

	/* Blocking read and epoll readiness. */
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, in, &ev);
	EXPECT_EQ("empty: not ready", epoll_wait(ep, &out, 1, 0), 0);
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(50000);
		t_writefile("r/child", "");
		_exit(0);
	}
	CHECK("epoll woken by an event", epoll_wait(ep, &out, 1, 5000) == 1 && out.events == EPOLLIN);
	int st;
	waitpid(pid, &st, 0);
	fcntl(in, F_SETFL, 0);
	n = read(in, buf, sizeof buf);
	CHECK("read the child's event", n == 32 && strcmp(e->name, "child") == 0);
	pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(50000);
		t_writefile("r/later", "");
		_exit(0);
	}
	n = read(in, buf, sizeof buf);
	CHECK("blocking read woken", n == 32 && strcmp(e->name, "later") == 0);
	waitpid(pid, &st, 0);
	close(ep);
	close(in);
	t_rmtree("r");
}

/* A tail -f style follower: wait for IN_MODIFY, then read what was
 * appended, until the writer's three lines have arrived. */
static void follow(void)
{
	t_writefile("log", "");
	int in = inotify_init();
	int wd = inotify_add_watch(in, "log", IN_MODIFY | IN_DELETE_SELF);
	int fd = open("log", O_RDONLY);
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		const char *lines[] = {"one\n", "two\n", "three\n"};
		for (int i = 0; i < 3; i++) {
			usleep(30000);
			wr("log", lines[i], O_APPEND);
		}
		_exit(0);
	}
	char data[64] = {0};
	size_t have = 0;
	int wakeups = 0;
	while (have < strlen("one\ntwo\nthree\n") && wakeups < 10) {
		char buf[256] __attribute__((aligned(8)));
		ssize_t n = read(in, buf, sizeof buf);
		if (n <= 0)
			break;
		wakeups++;
		struct inotify_event *e = (struct inotify_event *)buf;
		if (e->wd != wd || !(e->mask & IN_MODIFY))
			break;
		ssize_t r;
		while ((r = read(fd, data + have, sizeof data - 1 - have)) > 0)
			have += r;
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK("follower saw every line in order", strcmp(data, "one\ntwo\nthree\n") == 0);
	CHECK("woken once per append or fewer", wakeups >= 1 && wakeups <= 3);
	close(fd);
	close(in);
	unlink("log");
}

int main(void)
{
	t_tmpdir("inotify");
	errors();
	directory_events();
	file_events();
	reading();
	follow();
	return t_done();
}
