/*
 * unix_perm: AF_UNIX permission checks for an unprivileged user (forked
 * children that drop to uid/gid 65534).
 * - connect needs write permission on the socket node (EACCES), and works
 *   once it has it; bind needs write permission on the directory
 * - SCM_CREDENTIALS may only claim the sender's own PID and IDs (EPERM
 *   otherwise); the receiver sees what was claimed
 * - SO_PEERCRED reports the connecting child's effective IDs
 */
#include "t.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static socklen_t path_addr(struct sockaddr_un *a, const char *p)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, p);
	return offsetof(struct sockaddr_un, sun_path) + strlen(p) + 1;
}

static int drop(void)
{
	return setgid(65534) == 0 && setuid(65534) == 0;
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int send_creds(int fd, pid_t pid, uid_t uid, gid_t gid)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct msghdr m = {0};
	struct iovec io = {"c", 1};
	struct cmsghdr *c;
	struct ucred u = {pid, uid, gid};

	memset(ctl, 0, sizeof ctl);
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof ctl;
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof u);
	memcpy(CMSG_DATA(c), &u, sizeof u);
	return sendmsg(fd, &m, 0) == 1 ? 0 : errno;
}

int main(void)
{
	struct sockaddr_un a, b;
	socklen_t al, bl;
	int l, sv[2], on = 1;
	pid_t pid;

	t_tmpdir("unix_perm");
	MUST("chmod tmpdir", chmod(t_dir, 0755));
	al = path_addr(&a, "perm.sock");
	bl = path_addr(&b, "nobody.sock");
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	MUST("bind", bind(l, (struct sockaddr *)&a, al));
	MUST("listen", listen(l, 4));

	pid = fork();
	if (pid == 0) {
		int k = socket(AF_UNIX, SOCK_STREAM, 0);

		if (!drop())
			_exit(9);
		if (connect(k, (struct sockaddr *)&a, al) == 0 || errno != EACCES)
			_exit(1);
		if (bind(k, (struct sockaddr *)&b, bl) == 0 || errno != EACCES)
			_exit(2);
		_exit(0);
	}
	EXPECT_EQ("unprivileged: node 0755 -> EACCES to connect, dir -> EACCES to bind", child_status(pid), 0);
	SYSOK("chmod node 0777", chmod("perm.sock", 0777));
	pid = fork();
	if (pid == 0) {
		int k = socket(AF_UNIX, SOCK_STREAM, 0);

		if (!drop())
			_exit(9);
		_exit(connect(k, (struct sockaddr *)&a, al) == 0 ? 0 : 1);
	}
	EXPECT_EQ("unprivileged connect with write permission", child_status(pid), 0);
	{
		int s = accept(l, NULL, NULL);
		struct ucred u;
		socklen_t ul = sizeof u;

		SYSOK("accept", s);
		CHECK("SO_PEERCRED of the unprivileged client", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &u, &ul) == 0 &&
		      u.pid == pid && u.uid == 65534 && u.gid == 65534);
		close(s);
	}
	close(l);

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	SYSOK("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
	pid = fork();
	if (pid == 0) {
		if (!drop())
			_exit(9);
		if (send_creds(sv[0], getpid(), 0, 65534) != EPERM)
			_exit(1);
		if (send_creds(sv[0], getpid(), 65534, 0) != EPERM)
			_exit(2);
		if (send_creds(sv[0], getppid(), 65534, 65534) != EPERM)
			_exit(3);
		if (send_creds(sv[0], getpid(), 65534, 65534) != 0)
			_exit(4);
		_exit(0);
	}
	EXPECT_EQ("unprivileged SCM_CREDENTIALS: own IDs only", child_status(pid), 0);
	{
		char buf[4], ctl[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec io = {buf, sizeof buf};
		struct msghdr m = {0};
		struct ucred u;

		m.msg_iov = &io;
		m.msg_iovlen = 1;
		m.msg_control = ctl;
		m.msg_controllen = sizeof ctl;
		EXPECT_EQ("receive", recvmsg(sv[1], &m, MSG_DONTWAIT), 1);
		memcpy(&u, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof u);
		CHECK("claimed credentials arrive", u.pid == pid && u.uid == 65534 && u.gid == 65534);
	}
	close(sv[0]);
	close(sv[1]);
	return t_done();
}
