/*
 * ipv6_loopback: AF_INET6 sockets over ::1 and dual-stack use (ipv6(7)).
 * - TCP over ::1: bind, listen, connect, accept, sockaddr_in6 names (28
 *   bytes), data both ways, ECONNREFUSED
 * - dual stack: a socket on :: accepts IPv4 connections, whose addresses
 *   appear IPv4-mapped (::ffff:127.0.0.1); IPV6_V6ONLY refuses them, and
 *   cannot change once bound; binding a mapped address on a v6-only
 *   socket is EINVAL
 * - address checks: short sockaddr_in6 (EINVAL), AF_INET on an AF_INET6
 *   socket (EAFNOSUPPORT)
 * - UDP over ::1 with IPV6_RECVPKTINFO and IPV6_RECVHOPLIMIT; a datagram
 *   to ::ffff:127.0.0.1 reaching an IPv4 socket
 * - ICMPv6 echo over a ping socket
 */
#include "t.h"
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static struct sockaddr_in6 any6(int port)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof a);
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	return a;
}

static struct sockaddr_in6 lo6(int port)
{
	struct sockaddr_in6 a = any6(port);

	a.sin6_addr = in6addr_loopback;
	return a;
}

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static int listen6(struct sockaddr_in6 *a, int v6only)
{
	int s = socket(AF_INET6, SOCK_STREAM, 0);
	socklen_t l = sizeof *a;

	if (v6only >= 0)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
	if (bind(s, (struct sockaddr *)a, sizeof *a) < 0 || listen(s, 8) < 0 || getsockname(s, (struct sockaddr *)a, &l) < 0)
		return -1;
	return s;
}

static int is_mapped_loopback(const struct in6_addr *a)
{
	static const unsigned char m[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};

	return memcmp(a, m, 16) == 0;
}

static void test_tcp(void)
{
	struct sockaddr_in6 a = lo6(0), b, c;
	socklen_t l;
	int s, cl, sv, v;
	char buf[16];

	s = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK("socket AF_INET6", s >= 0);
	l = sizeof b;
	memset(&b, 0xff, sizeof b);
	CHECK("getsockname unbound", getsockname(s, (struct sockaddr *)&b, &l) == 0 && l == sizeof b &&
					     b.sin6_family == AF_INET6 && b.sin6_port == 0 &&
					     IN6_IS_ADDR_UNSPECIFIED(&b.sin6_addr) && b.sin6_flowinfo == 0 && b.sin6_scope_id == 0);
	l = sizeof v;
	CHECK("IPV6_V6ONLY default 0", getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l) == 0 && v == 0);
	EXPECT_ERRNO("bind short sockaddr_in6", bind(s, (struct sockaddr *)&a, 23), EINVAL);
	b = lo6(0);
	b.sin6_family = AF_INET;
	EXPECT_ERRNO("bind AF_INET address", bind(s, (struct sockaddr *)&b, sizeof b), EAFNOSUPPORT);
	close(s);

	s = listen6(&a, -1);
	CHECK("listen on ::1", s >= 0 && a.sin6_port != 0);
	cl = socket(AF_INET6, SOCK_STREAM, 0);
	SYSOK("connect ::1", connect(cl, (struct sockaddr *)&a, sizeof a));
	l = sizeof b;
	sv = accept(s, (struct sockaddr *)&b, &l);
	CHECK("accept", sv >= 0 && l == sizeof b && b.sin6_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&b.sin6_addr));
	l = sizeof c;
	CHECK("client name", getsockname(cl, (struct sockaddr *)&c, &l) == 0 && c.sin6_port == b.sin6_port &&
				     IN6_IS_ADDR_LOOPBACK(&c.sin6_addr));
	l = sizeof c;
	CHECK("client peer", getpeername(cl, (struct sockaddr *)&c, &l) == 0 && l == sizeof c && c.sin6_port == a.sin6_port);
	EXPECT_EQ("write", write(cl, "six", 3), 3);
	CHECK("read", readable(sv, 5000) && read(sv, buf, sizeof buf) == 3 && memcmp(buf, "six", 3) == 0);
	EXPECT_EQ("write back", write(sv, "four", 4), 4);
	CHECK("read back", readable(cl, 5000) && read(cl, buf, sizeof buf) == 4);
	close(sv);
	close(cl);
	close(s);

	/* A released port refuses. */
	s = socket(AF_INET6, SOCK_STREAM, 0);
	a = lo6(0);
	bind(s, (struct sockaddr *)&a, sizeof a);
	l = sizeof a;
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	cl = socket(AF_INET6, SOCK_STREAM, 0);
	EXPECT_ERRNO("connect refused", connect(cl, (struct sockaddr *)&a, sizeof a), ECONNREFUSED);
	close(cl);
}

static void test_dual_stack(void)
{
	struct sockaddr_in6 a = any6(0), b;
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l;
	int s, c, sv, v;

	s = listen6(&a, -1);
	CHECK("listen on ::", s >= 0);
	a4.sin_port = a.sin6_port;
	c = socket(AF_INET, SOCK_STREAM, 0);
	SYSOK("IPv4 connect to dual-stack listener", connect(c, (struct sockaddr *)&a4, sizeof a4));
	l = sizeof b;
	sv = accept(s, (struct sockaddr *)&b, &l);
	CHECK("peer is IPv4-mapped", sv >= 0 && l == sizeof b && b.sin6_family == AF_INET6 && is_mapped_loopback(&b.sin6_addr));
	l = sizeof b;
	CHECK("local name is IPv4-mapped", getsockname(sv, (struct sockaddr *)&b, &l) == 0 && is_mapped_loopback(&b.sin6_addr));
	close(sv);
	close(c);
	close(s);

	a = any6(0);
	s = listen6(&a, 1);
	l = sizeof v;
	CHECK("IPV6_V6ONLY 1", s >= 0 && getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l) == 0 && v == 1);
	v = 0;
	EXPECT_ERRNO("IPV6_V6ONLY after bind", setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v), EINVAL);
	a4.sin_port = a.sin6_port;
	c = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_ERRNO("v6-only listener refuses IPv4", connect(c, (struct sockaddr *)&a4, sizeof a4), ECONNREFUSED);
	close(c);
	close(s);

	s = socket(AF_INET6, SOCK_STREAM, 0);
	v = 1;
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
	a = any6(0);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
	EXPECT_ERRNO("v6-only bind mapped address", bind(s, (struct sockaddr *)&a, sizeof a), EINVAL);
	close(s);
	s = socket(AF_INET6, SOCK_STREAM, 0);
	SYSOK("dual-stack bind mapped address", bind(s, (struct sockaddr *)&a, sizeof a));
	l = sizeof b;
	CHECK("mapped name", getsockname(s, (struct sockaddr *)&b, &l) == 0 && is_mapped_loopback(&b.sin6_addr));
	close(s);
}

static void test_udp(void)
{
	struct sockaddr_in6 a = lo6(0), from;
	socklen_t l = sizeof a;
	int s = socket(AF_INET6, SOCK_DGRAM, 0), c = socket(AF_INET6, SOCK_DGRAM, 0), on = 1;
	char buf[16], ctl[256];
	int hops = -1, ifindex = -1, n = 0;
	struct in6_addr dst = {0};

	bind(s, (struct sockaddr *)&a, sizeof a);
	getsockname(s, (struct sockaddr *)&a, &l);
	SYSOK("IPV6_RECVPKTINFO", setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on));
	SYSOK("IPV6_RECVHOPLIMIT", setsockopt(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on));
	EXPECT_EQ("sendto ::1", sendto(c, "udp6", 4, 0, (struct sockaddr *)&a, sizeof a), 4);
	struct iovec iov = {buf, sizeof buf};
	struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = ctl, .msg_controllen = sizeof ctl};
	CHECK("recvmsg", readable(s, 5000) && recvmsg(s, &m, 0) == 4 && m.msg_namelen == sizeof from &&
				 IN6_IS_ADDR_LOOPBACK(&from.sin6_addr));
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		n++;
		if (h->cmsg_level == IPPROTO_IPV6 && h->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(h), sizeof pi);
			ifindex = pi.ipi6_ifindex;
			dst = pi.ipi6_addr;
		} else if (h->cmsg_level == IPPROTO_IPV6 && h->cmsg_type == IPV6_HOPLIMIT) {
			memcpy(&hops, CMSG_DATA(h), sizeof hops);
		}
	}
	EXPECT_EQ("two control messages", n, 2);
	EXPECT_EQ("IPV6_PKTINFO ifindex lo", ifindex, 1);
	CHECK("IPV6_PKTINFO destination ::1", IN6_IS_ADDR_LOOPBACK(&dst));
	EXPECT_EQ("IPV6_HOPLIMIT 64", hops, 64);
	close(s);

	/* Mapped destination reaches an IPv4 socket. */
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s4 = socket(AF_INET, SOCK_DGRAM, 0);
	l = sizeof a4;
	bind(s4, (struct sockaddr *)&a4, sizeof a4);
	getsockname(s4, (struct sockaddr *)&a4, &l);
	a = any6(ntohs(a4.sin_port));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
	EXPECT_EQ("sendto mapped address", sendto(c, "v4", 2, 0, (struct sockaddr *)&a, sizeof a), 2);
	CHECK("IPv4 socket receives it", readable(s4, 5000) && recv(s4, buf, sizeof buf, 0) == 2);
	close(s4);
	close(c);
}

static void test_ping6(void)
{
	struct sockaddr_in6 a = lo6(0);
	struct icmp6_hdr h = {.icmp6_type = ICMP6_ECHO_REQUEST, .icmp6_seq = htons(9)};
	char buf[64];
	int s = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);

	CHECK("ICMPv6 ping socket", s >= 0);
	memcpy(buf, &h, sizeof h);
	memcpy(buf + sizeof h, "six!", 4);
	EXPECT_EQ("send echo", sendto(s, buf, sizeof h + 4, 0, (struct sockaddr *)&a, sizeof a), (long)sizeof h + 4);
	int n = readable(s, 5000) ? recv(s, buf, sizeof buf, 0) : -1;
	struct icmp6_hdr r;
	memcpy(&r, buf, sizeof r);
	CHECK("echo reply", n == (int)sizeof h + 4 && r.icmp6_type == ICMP6_ECHO_REPLY && ntohs(r.icmp6_seq) == 9);
	close(s);
	EXPECT_ERRNO("ICMP (v4) on AF_INET6", socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMP), EPROTONOSUPPORT);
}

int main(void)
{
	test_tcp();
	test_dual_stack();
	test_udp();
	test_ping6();
	return t_done();
}
