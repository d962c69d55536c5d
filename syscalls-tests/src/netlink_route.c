/*
 * netlink_route: AF_NETLINK NETLINK_ROUTE (netlink(7), rtnetlink(7)) and
 * the libc functions built on it.
 * - getifaddrs(3): lo's link, IPv4 and IPv6 entries with masks and flags
 * - if_nameindex(3), if_nametoindex(3), if_indextoname(3)
 * - an RTM_GETLINK dump parsed by hand: one RTM_NEWLINK for lo (type,
 *   flags, IFLA_IFNAME, IFLA_MTU, IFLA_ADDRESS), then NLMSG_DONE; the
 *   sender is the kernel (nl_pid 0), sequence numbers echoed
 * - RTM_GETADDR dumps filtered by family; RTM_GETLINK of one interface and
 *   ENODEV for a missing one; NLM_F_ACK; EOPNOTSUPP for unknown types
 * - RTM_NEWADDR/RTM_DELADDR on lo: the address appears in getifaddrs and
 *   goes away; EEXIST with NLM_F_EXCL, EADDRNOTAVAIL deleting it twice
 * - autobind (nl_pid is the process ID), bind errors, socket type and
 *   protocol errors, MSG_PEEK|MSG_TRUNC sizing
 */
#include "t.h"
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

static char rbuf[65536];

static int nl_open(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

/* nl_send sends one request with fixed header hdr (n bytes) and optional
 * attributes. */
static int nl_send(int s, int type, int flags, int seq, const void *hdr, int n, const void *attrs, int an)
{
	char b[512];
	struct nlmsghdr *h = (struct nlmsghdr *)b;
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};

	memset(b, 0, sizeof b);
	h->nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(n) + an);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = seq;
	memcpy(NLMSG_DATA(h), hdr, n);
	if (an)
		memcpy((char *)NLMSG_DATA(h) + NLMSG_ALIGN(n), attrs, an);
	return sendto(s, b, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof k);
}

/* nl_error receives one datagram and returns the error of its
 * NLMSG_ERROR (0 for an ack), or 1 if it holds something else. */
static int nl_error(int s, int seq)
{
	int n = recv(s, rbuf, sizeof rbuf, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)rbuf;

	if (n < (int)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR || (int)h->nlmsg_seq != seq)
		return 1;
	return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

static int add_attr(char *p, int type, const void *v, int n)
{
	struct rtattr *a = (struct rtattr *)p;

	a->rta_len = RTA_LENGTH(n);
	a->rta_type = type;
	memcpy(RTA_DATA(a), v, n);
	return RTA_ALIGN(a->rta_len);
}

/* ifaddr_count counts getifaddrs entries of family with address addr
 * (NULL: any) on lo. */
static int ifaddr_count(int family, const char *addr)
{
	struct ifaddrs *ifa, *i;
	int n = 0;
	char txt[64];

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != family || strcmp(i->ifa_name, "lo") != 0)
			continue;
		if (addr) {
			const void *p = family == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
							  : (void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			inet_ntop(family, p, txt, sizeof txt);
			if (strcmp(txt, addr) != 0)
				continue;
		}
		n++;
	}
	freeifaddrs(ifa);
	return n;
}

static void test_libc(void)
{
	struct ifaddrs *ifa, *i;
	int links = 0, v4 = 0, v6 = 0, others = 0;
	char txt[64];

	SYSOK("getifaddrs", getifaddrs(&ifa));
	for (i = ifa; i; i = i->ifa_next) {
		if (strcmp(i->ifa_name, "lo") != 0 || !i->ifa_addr) {
			others++;
			continue;
		}
		switch (i->ifa_addr->sa_family) {
		case AF_PACKET:
			links += (i->ifa_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING)) == (IFF_UP | IFF_LOOPBACK | IFF_RUNNING);
			break;
		case AF_INET:
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, txt, sizeof txt);
			v4 += strcmp(txt, "127.0.0.1") == 0;
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_netmask)->sin_addr, txt, sizeof txt);
			v4 += strcmp(txt, "255.0.0.0") == 0;
			break;
		case AF_INET6:
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, txt, sizeof txt);
			v6 += strcmp(txt, "::1") == 0;
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr, txt, sizeof txt);
			v6 += strcmp(txt, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 0;
			break;
		}
	}
	freeifaddrs(ifa);
	EXPECT_EQ("getifaddrs lo link up", links, 1);
	EXPECT_EQ("getifaddrs lo 127.0.0.1/8", v4, 2);
	EXPECT_EQ("getifaddrs lo ::1/128", v6, 2);
	EXPECT_EQ("getifaddrs nothing else", others, 0);

	struct if_nameindex *ni = if_nameindex();
	CHECK("if_nameindex", ni && ni[0].if_index == 1 && strcmp(ni[0].if_name, "lo") == 0 && ni[1].if_index == 0);
	if_freenameindex(ni);
	EXPECT_EQ("if_nametoindex lo", if_nametoindex("lo"), 1);
	EXPECT_EQ("if_nametoindex missing", if_nametoindex("nosuch0"), 0);
	char name[IF_NAMESIZE];
	CHECK("if_indextoname 1", if_indextoname(1, name) && strcmp(name, "lo") == 0);
}

static void test_getlink_dump(void)
{
	int s = nl_open();
	struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
	struct sockaddr_nl from;
	socklen_t l = sizeof from;
	int links = 0, done = 0, bad = 0, lo_ok = 0, n;

	CHECK("socket NETLINK_ROUTE", s >= 0);
	EXPECT_EQ("dump request", nl_send(s, RTM_GETLINK, NLM_F_DUMP, 42, &g, sizeof g, NULL, 0), NLMSG_LENGTH(NLMSG_ALIGN(sizeof g)));
	struct sockaddr_nl me;
	l = sizeof me;
	CHECK("autobound to the process ID", getsockname(s, (struct sockaddr *)&me, &l) == 0 && l == sizeof me &&
						    me.nl_family == AF_NETLINK && me.nl_pid == (unsigned)getpid() && me.nl_groups == 0);
	n = recv(s, NULL, 0, MSG_PEEK | MSG_TRUNC);
	CHECK("MSG_PEEK|MSG_TRUNC gives the datagram size", n > 0);
	while (!done && !bad) {
		l = sizeof from;
		n = recvfrom(s, rbuf, sizeof rbuf, 0, (struct sockaddr *)&from, &l);
		if (n <= 0 || from.nl_pid != 0) {
			bad++;
			break;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != 42 || h->nlmsg_pid != me.nl_pid) {
				bad++;
				continue;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type != RTM_NEWLINK || !(h->nlmsg_flags & NLM_F_MULTI)) {
				bad++;
				continue;
			}
			links++;
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			int rl = IFLA_PAYLOAD(h), mtu = 0, named = 0, addr = 0;
			for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, rl); a = RTA_NEXT(a, rl)) {
				if (a->rta_type == IFLA_IFNAME)
					named = strcmp(RTA_DATA(a), "lo") == 0;
				if (a->rta_type == IFLA_MTU)
					memcpy(&mtu, RTA_DATA(a), 4);
				if (a->rta_type == IFLA_ADDRESS)
					addr = RTA_PAYLOAD(a) == 6;
			}
			lo_ok = ifi->ifi_index == 1 && ifi->ifi_type == ARPHRD_LOOPBACK &&
				(ifi->ifi_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP)) == (IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP) &&
				named && mtu == 65536 && addr;
		}
	}
	CHECK("dump ends with NLMSG_DONE", done && !bad);
	EXPECT_EQ("one link", links, 1);
	CHECK("lo described", lo_ok);
	EXPECT_ERRNO("nothing more", recv(s, rbuf, sizeof rbuf, MSG_DONTWAIT), EAGAIN);

	/* One link by index, and a missing one. */
	struct ifinfomsg q = {.ifi_family = AF_UNSPEC, .ifi_index = 1};
	nl_send(s, RTM_GETLINK, 0, 43, &q, sizeof q, NULL, 0);
	n = recv(s, rbuf, sizeof rbuf, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)rbuf;
	CHECK("RTM_GETLINK lo", n > 0 && h->nlmsg_type == RTM_NEWLINK && h->nlmsg_seq == 43 && !(h->nlmsg_flags & NLM_F_MULTI) &&
					((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index == 1);
	q.ifi_index = 999;
	nl_send(s, RTM_GETLINK, 0, 44, &q, sizeof q, NULL, 0);
	EXPECT_EQ("RTM_GETLINK missing ENODEV", nl_error(s, 44), -ENODEV);
	q.ifi_index = 0;
	char at[64];
	int an = add_attr(at, IFLA_IFNAME, "lo", 3);
	nl_send(s, RTM_GETLINK, 0, 45, &q, sizeof q, at, an);
	n = recv(s, rbuf, sizeof rbuf, 0);
	CHECK("RTM_GETLINK by name", n > 0 && h->nlmsg_type == RTM_NEWLINK && ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index == 1);
	nl_send(s, 0x1000, NLM_F_ACK, 46, &g, sizeof g, NULL, 0);
	EXPECT_EQ("unknown type EOPNOTSUPP", nl_error(s, 46), -EOPNOTSUPP);
	nl_send(s, NLMSG_NOOP, NLM_F_ACK, 47, &g, sizeof g, NULL, 0);
	n = recv(s, rbuf, sizeof rbuf, 0);
	CHECK("NLMSG_NOOP acked", n == (int)NLMSG_LENGTH(sizeof(struct nlmsgerr)) && h->nlmsg_type == NLMSG_ERROR &&
					  ((struct nlmsgerr *)NLMSG_DATA(h))->error == 0 && (h->nlmsg_flags & NLM_F_CAPPED));
	close(s);
}

/* dump_addrs counts the RTM_NEWADDR messages of a GETADDR dump for
 * family, and how many are 127.0.0.1/8 on lo with scope host. */
static void dump_addrs(int family, int *total, int *lo4, int *lo6)
{
	int s = nl_open(), done = 0, n;
	struct ifaddrmsg q = {.ifa_family = family};

	*total = *lo4 = *lo6 = 0;
	nl_send(s, RTM_GETADDR, NLM_F_DUMP, 7, &q, sizeof q, NULL, 0);
	while (!done && (n = recv(s, rbuf, sizeof rbuf, 0)) > 0) {
		for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type != RTM_NEWADDR)
				continue;
			struct ifaddrmsg *ia = NLMSG_DATA(h);
			int rl = IFA_PAYLOAD(h);
			(*total)++;
			for (struct rtattr *a = IFA_RTA(ia); RTA_OK(a, rl); a = RTA_NEXT(a, rl)) {
				if (a->rta_type != IFA_ADDRESS)
					continue;
				if (ia->ifa_family == AF_INET && ia->ifa_prefixlen == 8 && ia->ifa_scope == RT_SCOPE_HOST &&
				    ia->ifa_index == 1 && *(uint32_t *)RTA_DATA(a) == htonl(INADDR_LOOPBACK))
					(*lo4)++;
				if (ia->ifa_family == AF_INET6 && ia->ifa_prefixlen == 128 && ia->ifa_scope == RT_SCOPE_HOST &&
				    memcmp(RTA_DATA(a), &in6addr_loopback, 16) == 0)
					(*lo6)++;
			}
		}
	}
	close(s);
}

static void test_getaddr(void)
{
	int total, lo4, lo6;

	dump_addrs(AF_UNSPEC, &total, &lo4, &lo6);
	CHECK("GETADDR dump all", total == 2 && lo4 == 1 && lo6 == 1);
	dump_addrs(AF_INET, &total, &lo4, &lo6);
	CHECK("GETADDR dump AF_INET", total == 1 && lo4 == 1);
	dump_addrs(AF_INET6, &total, &lo4, &lo6);
	CHECK("GETADDR dump AF_INET6", total == 1 && lo6 == 1);
}

static void test_change_addr(void)
{
	int s = nl_open();
	struct ifaddrmsg q = {.ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = 1};
	struct in_addr a;
	char at[64];
	int an;

	inet_pton(AF_INET, "192.0.2.7", &a);
	an = add_attr(at, IFA_LOCAL, &a, 4);
	an += add_attr(at + an, IFA_ADDRESS, &a, 4);
	nl_send(s, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 1, &q, sizeof q, at, an);
	EXPECT_EQ("RTM_NEWADDR", nl_error(s, 1), 0);
	EXPECT_EQ("new address in getifaddrs", ifaddr_count(AF_INET, "192.0.2.7"), 1);
	nl_send(s, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 2, &q, sizeof q, at, an);
	EXPECT_EQ("RTM_NEWADDR again EEXIST", nl_error(s, 2), -EEXIST);
	nl_send(s, RTM_DELADDR, NLM_F_ACK, 3, &q, sizeof q, at, an);
	EXPECT_EQ("RTM_DELADDR", nl_error(s, 3), 0);
	EXPECT_EQ("address gone", ifaddr_count(AF_INET, "192.0.2.7"), 0);
	nl_send(s, RTM_DELADDR, NLM_F_ACK, 4, &q, sizeof q, at, an);
	EXPECT_EQ("RTM_DELADDR again EADDRNOTAVAIL", nl_error(s, 4), -EADDRNOTAVAIL);
	q.ifa_index = 999;
	nl_send(s, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE, 5, &q, sizeof q, at, an);
	EXPECT_EQ("RTM_NEWADDR unknown interface ENODEV", nl_error(s, 5), -ENODEV);
	EXPECT_EQ("127.0.0.1 still there", ifaddr_count(AF_INET, "127.0.0.1"), 1);
	close(s);
}

static void test_errors(void)
{
	int s;
	struct sockaddr_nl a = {.nl_family = AF_NETLINK};

	EXPECT_ERRNO("SOCK_STREAM", socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE), ESOCKTNOSUPPORT);
	EXPECT_ERRNO("NETLINK_UNUSED", socket(AF_NETLINK, SOCK_RAW, 1), EPROTONOSUPPORT);
	EXPECT_ERRNO("protocol 32", socket(AF_NETLINK, SOCK_RAW, 32), EPROTONOSUPPORT);
	s = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
	CHECK("SOCK_DGRAM works too", s >= 0);
	EXPECT_ERRNO("bind short", bind(s, (struct sockaddr *)&a, 8), EINVAL);
	a.nl_family = AF_INET;
	EXPECT_ERRNO("bind wrong family", bind(s, (struct sockaddr *)&a, sizeof a), EINVAL);
	a.nl_family = AF_NETLINK;
	SYSOK("bind autobind", bind(s, (struct sockaddr *)&a, sizeof a));
	struct sockaddr_nl me;
	socklen_t l = sizeof me;
	CHECK("bound to the process ID", getsockname(s, (struct sockaddr *)&me, &l) == 0 && me.nl_pid == (unsigned)getpid());
	int s2 = nl_open();
	a.nl_pid = me.nl_pid;
	EXPECT_ERRNO("bind taken port", bind(s2, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
	a.nl_pid = 0;
	SYSOK("second socket autobinds elsewhere", bind(s2, (struct sockaddr *)&a, sizeof a));
	struct sockaddr_nl me2;
	l = sizeof me2;
	CHECK("different port", getsockname(s2, (struct sockaddr *)&me2, &l) == 0 && me2.nl_pid != me.nl_pid && (int)me2.nl_pid < 0);
	int v = 0;
	l = sizeof v;
	CHECK("SO_PROTOCOL", getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l) == 0 && v == NETLINK_ROUTE);
	v = RTNLGRP_LINK;
	SYSOK("NETLINK_ADD_MEMBERSHIP", setsockopt(s, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &v, sizeof v));
	l = sizeof me;
	CHECK("groups in name", getsockname(s, (struct sockaddr *)&me, &l) == 0 && me.nl_groups == 1u << (RTNLGRP_LINK - 1));
	v = 1;
	SYSOK("NETLINK_EXT_ACK", setsockopt(s, SOL_NETLINK, NETLINK_EXT_ACK, &v, sizeof v));
	close(s);
	close(s2);
}

int main(void)
{
	test_libc();
	test_getlink_dump();
	test_getaddr();
	test_change_addr();
	test_errors();
	return t_done();
}
