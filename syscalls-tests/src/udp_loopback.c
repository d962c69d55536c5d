/*
 * udp_loopback: UDP and ICMP datagram sockets over 127.0.0.1 (udp(7),
 * icmp(7)).
 * - sendto/recvfrom with addresses, message boundaries, MSG_PEEK,
 *   MSG_TRUNC (as a flag in and out), short buffers, zero-length
 *   datagrams, FIONREAD = the next datagram's size, EAGAIN when empty
 * - connect: send/recv without addresses, datagrams from other senders
 *   filtered, getpeername; connect(AF_UNSPEC) dissolves it; EDESTADDRREQ
 * - autobind on first send; bind conflicts; SO_REUSEADDR sharing a port;
 *   ENETUNREACH without a route
 * - recvmsg control messages: IP_PKTINFO, IP_TTL, IP_TOS
 * - EMSGSIZE beyond 65507 bytes; shutdown(SHUT_RD) wakes a reader
 * - ICMP echo over a SOCK_DGRAM IPPROTO_ICMP ("ping") socket
 * - raw IPPROTO_ICMP socket sees the echo reply with its IP header
 */
#include "t.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int bound(struct sockaddr_in *a)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t l = sizeof *a;

	*a = loopback(0);
	if (s < 0 || bind(s, (struct sockaddr *)a, sizeof *a) < 0 || getsockname(s, (struct sockaddr *)a, &l) < 0)
		return -1;
	return s;
}

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void test_basic(void)
{
	struct sockaddr_in a, b, from;
	socklen_t l;
	int s, c, v;
	char buf[64];

	s = bound(&a);
	CHECK("bind", s >= 0 && a.sin_port != 0);
	c = socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT_ERRNO("send unconnected EDESTADDRREQ", send(c, "x", 1, 0), EDESTADDRREQ);
	EXPECT_ERRNO("recv empty EAGAIN", recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	EXPECT_EQ("sendto", sendto(c, "first", 5, 0, (struct sockaddr *)&a, sizeof a), 5);
	l = sizeof b;
	CHECK("autobound on send", getsockname(c, (struct sockaddr *)&b, &l) == 0 && b.sin_port != 0);
	EXPECT_EQ("sendto second", sendto(c, "second!", 7, 0, (struct sockaddr *)&a, sizeof a), 7);
	CHECK("readable", readable(s, 5000));
	CHECK("FIONREAD is first datagram", ioctl(s, FIONREAD, &v) == 0 && v == 5);
	l = sizeof from;
	memset(&from, 0, sizeof from);
	CHECK("MSG_PEEK", recvfrom(s, buf, sizeof buf, MSG_PEEK, (struct sockaddr *)&from, &l) == 5 &&
				  memcmp(buf, "first", 5) == 0 && l == sizeof from && from.sin_port == b.sin_port &&
				  from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	CHECK("recvfrom keeps boundaries", recvfrom(s, buf, sizeof buf, 0, NULL, NULL) == 5);
	CHECK("short buffer truncates", recv(s, buf, 3, 0) == 3 && memcmp(buf, "sec", 3) == 0);
	EXPECT_ERRNO("rest of truncated datagram gone", recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

	/* MSG_TRUNC in and out of recvmsg. */
	sendto(c, "0123456789", 10, 0, (struct sockaddr *)&a, sizeof a);
	readable(s, 5000);
	struct iovec iov = {buf, 4};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	CHECK("MSG_TRUNC returns real length", recvmsg(s, &m, MSG_TRUNC) == 10 && (m.msg_flags & MSG_TRUNC));
	sendto(c, "", 0, 0, (struct sockaddr *)&a, sizeof a);
	CHECK("zero-length datagram", readable(s, 5000) && recv(s, buf, sizeof buf, 0) == 0);
	EXPECT_ERRNO("still empty", recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

	/* Connected: a peer, and only its datagrams. */
	SYSOK("connect", connect(s, (struct sockaddr *)&b, sizeof b));
	l = sizeof from;
	CHECK("getpeername", getpeername(s, (struct sockaddr *)&from, &l) == 0 && from.sin_port == b.sin_port);
	EXPECT_EQ("send connected", send(s, "reply", 5, 0), 5);
	CHECK("reply arrives", readable(c, 5000) && recv(c, buf, sizeof buf, 0) == 5 && memcmp(buf, "reply", 5) == 0);
	int other = bound(&from);
	sendto(other, "stranger", 8, 0, (struct sockaddr *)&a, sizeof a);
	sendto(c, "friend", 6, 0, (struct sockaddr *)&a, sizeof a);
	CHECK("connected socket filters senders", readable(s, 5000) && recv(s, buf, sizeof buf, 0) == 6 &&
						       memcmp(buf, "friend", 6) == 0);
	EXPECT_ERRNO("stranger dropped", recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	struct sockaddr un = {.sa_family = AF_UNSPEC};
	SYSOK("connect AF_UNSPEC", connect(s, &un, sizeof un));
	l = sizeof from;
	EXPECT_ERRNO("disconnected getpeername", getpeername(s, (struct sockaddr *)&from, &l), ENOTCONN);
	close(other);
	/* (A disconnected socket whose port bind chose gives it up, as Linux's
	 * udp_disconnect() does: start again with a fresh one.) */
	close(s);
	s = bound(&a);

	/* Errors. */
	char *big = calloc(1, 70000);
	EXPECT_ERRNO("EMSGSIZE", sendto(c, big, 65508, 0, (struct sockaddr *)&a, sizeof a), EMSGSIZE);
	EXPECT_EQ("largest datagram", sendto(c, big, 65507, 0, (struct sockaddr *)&a, sizeof a), 65507);
	CHECK("largest datagram arrives", readable(s, 5000) && recv(s, big, 70000, 0) == 65507);
	free(big);
	struct sockaddr_in bc = loopback(9);
	bc.sin_addr.s_addr = inet_addr("192.0.2.1");
	EXPECT_ERRNO("no route ENETUNREACH", sendto(c, "x", 1, 0, (struct sockaddr *)&bc, sizeof bc), ENETUNREACH);
	EXPECT_ERRNO("sendto short address", sendto(c, "x", 1, 0, (struct sockaddr *)&a, sizeof a - 1), EINVAL);
	a.sin_family = AF_INET6;
	EXPECT_ERRNO("sendto wrong family", sendto(c, "x", 1, 0, (struct sockaddr *)&a, sizeof a), EAFNOSUPPORT);
	a.sin_family = AF_INET;
	int s2 = socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT_ERRNO("bind in use", bind(s2, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
	close(s2);
	close(s);
	close(c);

	/* SO_REUSEADDR on both: two sockets on one port. */
	int r1 = socket(AF_INET, SOCK_DGRAM, 0), r2 = socket(AF_INET, SOCK_DGRAM, 0);
	v = 1;
	setsockopt(r1, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v);
	setsockopt(r2, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v);
	a = loopback(0);
	bind(r1, (struct sockaddr *)&a, sizeof a);
	l = sizeof a;
	getsockname(r1, (struct sockaddr *)&a, &l);
	SYSOK("SO_REUSEADDR shares a port", bind(r2, (struct sockaddr *)&a, sizeof a));
	close(r1);
	close(r2);
}

static void test_cmsgs(void)
{
	struct sockaddr_in a;
	int s = bound(&a), c = socket(AF_INET, SOCK_DGRAM, 0), on = 1, ttl = 0, tos = -1, ifindex = -1;
	char buf[16], ctl[256];
	struct iovec iov = {buf, sizeof buf};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
	struct in_addr dst = {0};
	int n = 0, t = 0x10;

	SYSOK("IP_PKTINFO", setsockopt(s, IPPROTO_IP, IP_PKTINFO, &on, sizeof on));
	SYSOK("IP_RECVTTL", setsockopt(s, IPPROTO_IP, IP_RECVTTL, &on, sizeof on));
	SYSOK("IP_RECVTOS", setsockopt(s, IPPROTO_IP, IP_RECVTOS, &on, sizeof on));
	SYSOK("IP_TOS on sender", setsockopt(c, IPPROTO_IP, IP_TOS, &t, sizeof t));
	sendto(c, "cm", 2, 0, (struct sockaddr *)&a, sizeof a);
	readable(s, 5000);
	CHECK("recvmsg with control", recvmsg(s, &m, 0) == 2);
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		n++;
		if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(h), sizeof pi);
			ifindex = pi.ipi_ifindex;
			dst = pi.ipi_addr;
		} else if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_TTL) {
			memcpy(&ttl, CMSG_DATA(h), sizeof ttl);
		} else if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_TOS) {
			tos = *(unsigned char *)CMSG_DATA(h);
		}
	}
	EXPECT_EQ("three control messages", n, 3);
	EXPECT_EQ("IP_PKTINFO ifindex is lo", ifindex, 1);
	CHECK("IP_PKTINFO destination", dst.s_addr == htonl(INADDR_LOOPBACK));
	EXPECT_EQ("IP_TTL 64", ttl, 64);
	EXPECT_EQ("IP_TOS 0x10", tos, 0x10);
	close(s);
	close(c);
}

static void test_shutdown_wakes(void)
{
	struct sockaddr_in a;
	int s = bound(&a);
	char buf[4];
	pid_t pid = fork();

	if (pid == 0) {
		usleep(100000);
		_exit(0);
	}
	/* A reader blocked in another process is woken by shutdown. */
	pid_t r = fork();
	if (r == 0)
		_exit(recv(s, buf, sizeof buf, 0) == 0 ? 0 : 1);
	usleep(100000);
	EXPECT_ERRNO("shutdown(SHUT_RD) unconnected", shutdown(s, SHUT_RD), ENOTCONN);
	int st;
	CHECK("blocked reader sees 0", waitpid(r, &st, 0) == r && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	waitpid(pid, &st, 0);
	close(s);
}

static unsigned short cksum(const void *p, int n)
{
	const unsigned short *w = p;
	unsigned long sum = 0;

	for (; n > 1; n -= 2)
		sum += *w++;
	if (n)
		sum += *(const unsigned char *)w;
	sum = (sum >> 16) + (sum & 0xffff);
	sum += sum >> 16;
	return ~sum;
}

static void test_ping(void)
{
	struct sockaddr_in a = loopback(0);
	struct icmphdr h = {.type = ICMP_ECHO, .un.echo.sequence = htons(7)};
	char buf[128];
	int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	socklen_t l;
	int v;

	CHECK("ping socket", s >= 0);
	l = sizeof v;
	CHECK("ping SO_PROTOCOL", getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l) == 0 && v == IPPROTO_ICMP);
	memcpy(buf, &h, sizeof h);
	memcpy(buf + sizeof h, "pingdata", 8);
	EXPECT_EQ("send echo", sendto(s, buf, sizeof h + 8, 0, (struct sockaddr *)&a, sizeof a), (long)sizeof h + 8);
	CHECK("reply readable", readable(s, 5000));
	int n = recv(s, buf, sizeof buf, 0);
	struct icmphdr r;
	memcpy(&r, buf, sizeof r);
	CHECK("echo reply", n == (int)sizeof h + 8 && r.type == ICMP_ECHOREPLY && ntohs(r.un.echo.sequence) == 7 &&
				    memcmp(buf + sizeof h, "pingdata", 8) == 0);
	close(s);

	/* A raw ICMP socket sees the request and the reply, IP header first. */
	s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	CHECK("raw ICMP socket", s >= 0);
	h.un.echo.id = htons(0x4242);
	h.checksum = 0;
	memcpy(buf, &h, sizeof h);
	memcpy(buf + sizeof h, "rawdata!", 8);
	h.checksum = cksum(buf, sizeof h + 8);
	memcpy(buf, &h, sizeof h);
	EXPECT_EQ("raw send echo", sendto(s, buf, sizeof h + 8, 0, (struct sockaddr *)&a, sizeof a), (long)sizeof h + 8);
	int replies = 0, requests = 0;
	for (int i = 0; i < 2 && readable(s, 5000); i++) {
		n = recv(s, buf, sizeof buf, 0);
		struct iphdr ip;
		memcpy(&ip, buf, sizeof ip);
		if (n != (int)(ip.ihl * 4 + sizeof h + 8) || ip.protocol != IPPROTO_ICMP)
			continue;
		memcpy(&r, buf + ip.ihl * 4, sizeof r);
		if (r.type == ICMP_ECHOREPLY && r.un.echo.id == htons(0x4242))
			replies++;
		if (r.type == ICMP_ECHO && r.un.echo.id == htons(0x4242))
			requests++;
	}
	CHECK("raw socket sees request and reply", replies == 1 && requests == 1);
	close(s);
	EXPECT_ERRNO("raw protocol 0", socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
}

int main(void)
{
	test_basic();
	test_cmsgs();
	test_shutdown_wakes();
	test_ping();
	return t_done();
}
