/* Raw, packet and netlink sockets: networking stays inside the sandbox.
 * `pangolin do` runs with --network=none: the sentry's own netstack with
 * loopback only, and no host network namespace behind it (the sentry is in
 * an empty one, and the harness fences it in another).
 *
 * - AF_INET/AF_INET6 raw sockets exist (the sandbox's root has
 *   CAP_NET_RAW) but see only the sandbox's stack: the only interface is
 *   lo, an ICMP echo to 127.0.0.1 is answered by the sandbox itself, and
 *   nothing else arrives; there is no route anywhere else (ENETUNREACH,
 *   without a packet leaving: UDP connect and sendto fail at routing).
 * - AF_PACKET is refused (EAFNOSUPPORT): no socket reaches a link layer.
 * - NETLINK_ROUTE lists and changes the sandbox's own interfaces only: an
 *   address added to lo stays in the sandbox (the harness checks the
 *   host's addresses did not change); other netlink protocols are
 *   EPROTONOSUPPORT.
 */
#include "e.h"
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

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

static void raw_icmp(void)
{
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct icmphdr h = {.type = ICMP_ECHO, .un.echo.id = htons(0x5a5a)};
	char buf[256];
	int replies = 0, foreign = 0;

	CHECK("raw ICMP socket is the sandbox's", s >= 0);
	h.checksum = cksum(&h, sizeof h);
	CHECK("echo to 127.0.0.1 sent", sendto(s, &h, sizeof h, 0, (struct sockaddr *)&lo, sizeof lo) == sizeof h);
	/* Everything the raw socket sees within a second: the request and
	 * its reply, nothing from any other host. */
	struct pollfd p = {.fd = s, .events = POLLIN};
	while (poll(&p, 1, 1000) == 1) {
		struct sockaddr_in from;
		socklen_t l = sizeof from;
		int n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &l);
		if (n <= 0)
			break;
		struct iphdr ip;
		memcpy(&ip, buf, sizeof ip);
		if (from.sin_addr.s_addr != htonl(INADDR_LOOPBACK) || ip.saddr != htonl(INADDR_LOOPBACK)) {
			foreign++;
			continue;
		}
		struct icmphdr r;
		memcpy(&r, buf + ip.ihl * 4, sizeof r);
		replies += r.type == ICMP_ECHOREPLY && r.un.echo.id == htons(0x5a5a);
	}
	CHECK("the sandbox answered its own echo", replies == 1);
	CHECK("no packet from outside the sandbox", foreign == 0);
	close(s);

	int hdr = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	CHECK("IPPROTO_RAW socket is the sandbox's", hdr >= 0);
	close(hdr);
	int s6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	CHECK("raw ICMPv6 socket is the sandbox's", s6 >= 0);
	close(s6);
}

static void no_route(void)
{
	struct sockaddr_in out = {.sin_family = AF_INET, .sin_port = htons(9)};
	struct sockaddr_in6 out6 = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
	int u = socket(AF_INET, SOCK_DGRAM, 0), u6 = socket(AF_INET6, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);

	/* TEST-NET-1 and the documentation prefix: routing fails before any
	 * packet could be built. */
	inet_pton(AF_INET, "192.0.2.1", &out.sin_addr);
	inet_pton(AF_INET6, "2001:db8::1", &out6.sin6_addr);
	EXPECT_ERRNO("UDP connect off-host", connect(u, (struct sockaddr *)&out, sizeof out), ENETUNREACH);
	EXPECT_ERRNO("UDP sendto off-host", sendto(u, "x", 1, 0, (struct sockaddr *)&out, sizeof out), ENETUNREACH);
	EXPECT_ERRNO("UDPv6 connect off-host", connect(u6, (struct sockaddr *)&out6, sizeof out6), ENETUNREACH);
	EXPECT_ERRNO("TCP connect off-host", connect(t, (struct sockaddr *)&out, sizeof out), ENETUNREACH);
	close(u);
	close(u6);
	close(t);
}

static void interfaces(void)
{
	struct if_nameindex *ni = if_nameindex();
	int n = 0, only_lo = 1;

	for (struct if_nameindex *i = ni; i && i->if_index; i++, n++)
		only_lo &= strcmp(i->if_name, "lo") == 0;
	if_freenameindex(ni);
	CHECK("lo is the only interface", n == 1 && only_lo);

	/* Add an address to lo through NETLINK_ROUTE: it is the sandbox's. */
	int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	struct {
		struct nlmsghdr h;
		struct ifaddrmsg a;
		struct rtattr ra;
		struct in_addr addr;
	} req = {
		.h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_NEWADDR, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, .nlmsg_seq = 1},
		.a = {.ifa_family = AF_INET, .ifa_prefixlen = 32, .ifa_index = 1},
		.ra = {.rta_len = RTA_LENGTH(4), .rta_type = IFA_LOCAL},
	};
	inet_pton(AF_INET, "192.0.2.77", &req.addr);
	char buf[512];
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};
	int ok = sendto(s, &req, sizeof req, 0, (struct sockaddr *)&k, sizeof k) == sizeof req &&
		 recv(s, buf, sizeof buf, 0) > 0 && ((struct nlmsgerr *)NLMSG_DATA((struct nlmsghdr *)buf))->error == 0;
	CHECK("address added to the sandbox's lo", ok);
	int b = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr = req.addr;
	SYSOK("and usable there", bind(b, (struct sockaddr *)&a, sizeof a));
	close(b);
	close(s);
}

int main(void)
{
	raw_icmp();
	no_route();
	interfaces();
	EXPECT_ERRNO("socket(AF_PACKET, SOCK_RAW)", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), EAFNOSUPPORT);
	EXPECT_ERRNO("socket(AF_PACKET, SOCK_DGRAM)", socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)), EAFNOSUPPORT);
	EXPECT_ERRNO("socket(AF_NETLINK, AUDIT)", socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT), EPROTONOSUPPORT);
	EXPECT_ERRNO("socket(AF_NETLINK, SOCK_DIAG)", socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG), EPROTONOSUPPORT);
	EXPECT_ERRNO("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0}), EOPNOTSUPP);
	return t_done();
}
