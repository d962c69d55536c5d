/*
 * sockopt_inet: socket options and ioctls of AF_INET and AF_INET6 sockets
 * (socket(7), ip(7), ipv6(7), tcp(7), netdevice(7)).
 * - SOL_SOCKET: SO_TYPE/PROTOCOL/DOMAIN, REUSEADDR, REUSEPORT, KEEPALIVE,
 *   BROADCAST, LINGER, SNDBUF/RCVBUF (TCP and UDP defaults, doubling,
 *   minimums, the maximum), RCVTIMEO, RCVLOWAT, ERROR, BINDTODEVICE
 * - SOL_TCP: NODELAY, CORK, KEEPIDLE/KEEPINTVL/KEEPCNT (defaults and
 *   ranges), USER_TIMEOUT, SYNCNT, LINGER2, DEFER_ACCEPT, CONGESTION,
 *   MAXSEG, INFO (state of a closed, listening and connected socket)
 * - SOL_IP: TTL (default, range, -1), TOS (TCP keeps the ECN bits), the
 *   RECV* flags, MULTICAST_TTL/LOOP, ADD/DROP_MEMBERSHIP, one-byte values
 * - SOL_IPV6: V6ONLY, UNICAST_HOPS, TCLASS, RECVPKTINFO, MULTICAST_HOPS
 * - errnos: short optlen, negative optlen, unknown options and levels
 * - ioctls: SIOCGIFINDEX/NAME/FLAGS/MTU/HWADDR/ADDR/NETMASK/TXQLEN,
 *   SIOCGIFCONF, ENODEV, SIOCOUTQ/SIOCINQ
 */
#include "t.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <termios.h>

/* geti reads an int option, or returns -1000 - errno. */
static int geti(int s, int level, int name)
{
	int v = 0;
	socklen_t l = sizeof v;

	if (getsockopt(s, level, name, &v, &l) < 0)
		return -1000 - errno;
	return v;
}

static int sysctl(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int seti(int s, int level, int name, int v)
{
	return setsockopt(s, level, name, &v, sizeof v);
}

#define GET(what, s, level, name, want) EXPECT_EQ(what, geti(s, level, name), want)
#define SETGET(what, s, level, name, v, want)                                         \
	CHECK(what, seti(s, level, name, v) == 0 && geti(s, level, name) == (want))

static void test_socket_level(void)
{
	int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	struct linger lg;
	struct timeval tv;
	socklen_t l;
	char name[IFNAMSIZ];

	GET("SO_TYPE tcp", t, SOL_SOCKET, SO_TYPE, SOCK_STREAM);
	GET("SO_TYPE udp", u, SOL_SOCKET, SO_TYPE, SOCK_DGRAM);
	GET("SO_PROTOCOL tcp", t, SOL_SOCKET, SO_PROTOCOL, IPPROTO_TCP);
	GET("SO_PROTOCOL udp", u, SOL_SOCKET, SO_PROTOCOL, IPPROTO_UDP);
	GET("SO_DOMAIN", t, SOL_SOCKET, SO_DOMAIN, AF_INET);
	GET("SO_ERROR", t, SOL_SOCKET, SO_ERROR, 0);
	GET("SO_REUSEADDR default", t, SOL_SOCKET, SO_REUSEADDR, 0);
	SETGET("SO_REUSEADDR", t, SOL_SOCKET, SO_REUSEADDR, 5, 1);
	SETGET("SO_REUSEPORT", t, SOL_SOCKET, SO_REUSEPORT, 1, 1);
	SETGET("SO_KEEPALIVE", t, SOL_SOCKET, SO_KEEPALIVE, 1, 1);
	SETGET("SO_BROADCAST", u, SOL_SOCKET, SO_BROADCAST, 1, 1);
	SETGET("SO_OOBINLINE", t, SOL_SOCKET, SO_OOBINLINE, 1, 1);
	SETGET("SO_PRIORITY", t, SOL_SOCKET, SO_PRIORITY, 3, 3);
	GET("SO_RCVLOWAT default", t, SOL_SOCKET, SO_RCVLOWAT, 1);
	l = sizeof lg;
	CHECK("SO_LINGER default", getsockopt(t, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 && l == sizeof lg && lg.l_onoff == 0 && lg.l_linger == 0);
	lg = (struct linger){1, 5};
	SYSOK("SO_LINGER set", setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	memset(&lg, 0, sizeof lg);
	CHECK("SO_LINGER get", getsockopt(t, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 && lg.l_onoff == 1 && lg.l_linger == 5);
	EXPECT_ERRNO("SO_LINGER short", setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, 4), EINVAL);

	GET("SO_SNDBUF tcp default", t, SOL_SOCKET, SO_SNDBUF, 16384);
	GET("SO_RCVBUF tcp default", t, SOL_SOCKET, SO_RCVBUF, 131072);
	GET("SO_SNDBUF udp default", u, SOL_SOCKET, SO_SNDBUF, 212992);
	GET("SO_RCVBUF udp default", u, SOL_SOCKET, SO_RCVBUF, 212992);
	SETGET("SO_SNDBUF doubled", t, SOL_SOCKET, SO_SNDBUF, 10000, 20000);
	SETGET("SO_RCVBUF doubled", t, SOL_SOCKET, SO_RCVBUF, 10000, 20000);
	SETGET("SO_SNDBUF minimum", u, SOL_SOCKET, SO_SNDBUF, 1, 4608);
	SETGET("SO_RCVBUF minimum", u, SOL_SOCKET, SO_RCVBUF, 1, 2304);
	/* The maximum is net.core.[wr]mem_max, doubled. */
	SETGET("SO_SNDBUF maximum", u, SOL_SOCKET, SO_SNDBUF, 1 << 30, 2 * sysctl("/proc/sys/net/core/wmem_max"));
	SETGET("SO_RCVBUF maximum", u, SOL_SOCKET, SO_RCVBUF, 1 << 30, 2 * sysctl("/proc/sys/net/core/rmem_max"));

	tv = (struct timeval){1, 500000};
	SYSOK("SO_RCVTIMEO set", setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	memset(&tv, 0, sizeof tv);
	l = sizeof tv;
	CHECK("SO_RCVTIMEO get", getsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0 && tv.tv_sec == 1 && tv.tv_usec == 500000);

	SYSOK("SO_BINDTODEVICE lo", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
	l = sizeof name;
	memset(name, 'x', sizeof name);
	CHECK("SO_BINDTODEVICE get", getsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, name, &l) == 0 && l == 3 && strcmp(name, "lo") == 0);
	EXPECT_ERRNO("SO_BINDTODEVICE unknown", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "nosuch0", 8), ENODEV);
	SYSOK("SO_BINDTODEVICE unbind", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "", 0));
	l = sizeof name;
	CHECK("SO_BINDTODEVICE unbound", getsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, name, &l) == 0 && l == 0);

	EXPECT_ERRNO("short optlen", setsockopt(t, SOL_SOCKET, SO_KEEPALIVE, "", 2), EINVAL);
	int v = 0;
	l = (socklen_t)-1;
	EXPECT_ERRNO("negative optlen", getsockopt(t, SOL_SOCKET, SO_TYPE, &v, &l), EINVAL);
	EXPECT_ERRNO("unknown SOL_SOCKET option", seti(t, SOL_SOCKET, 9999, 1), ENOPROTOOPT);
	EXPECT_ERRNO("getsockopt unknown SOL_SOCKET option", getsockopt(t, SOL_SOCKET, 9999, &v, &l), EINVAL);
	l = sizeof v;
	EXPECT_ERRNO("getsockopt unknown SOL_SOCKET option", getsockopt(t, SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
	EXPECT_ERRNO("SO_TYPE read-only", seti(t, SOL_SOCKET, SO_TYPE, 1), ENOPROTOOPT);
	close(t);
	close(u);
}

static void test_tcp_level(void)
{
	int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	char cc[16];
	socklen_t l;

	GET("TCP_NODELAY default", t, SOL_TCP, TCP_NODELAY, 0);
	SETGET("TCP_NODELAY", t, SOL_TCP, TCP_NODELAY, 1, 1);
	SETGET("TCP_CORK", t, SOL_TCP, TCP_CORK, 1, 1);
	SETGET("TCP_CORK off", t, SOL_TCP, TCP_CORK, 0, 0);
	GET("TCP_KEEPIDLE default", t, SOL_TCP, TCP_KEEPIDLE, 7200);
	GET("TCP_KEEPINTVL default", t, SOL_TCP, TCP_KEEPINTVL, 75);
	GET("TCP_KEEPCNT default", t, SOL_TCP, TCP_KEEPCNT, 9);
	SETGET("TCP_KEEPIDLE", t, SOL_TCP, TCP_KEEPIDLE, 60, 60);
	SETGET("TCP_KEEPINTVL", t, SOL_TCP, TCP_KEEPINTVL, 10, 10);
	SETGET("TCP_KEEPCNT", t, SOL_TCP, TCP_KEEPCNT, 3, 3);
	EXPECT_ERRNO("TCP_KEEPIDLE 0", seti(t, SOL_TCP, TCP_KEEPIDLE, 0), EINVAL);
	EXPECT_ERRNO("TCP_KEEPIDLE too big", seti(t, SOL_TCP, TCP_KEEPIDLE, 32768), EINVAL);
	EXPECT_ERRNO("TCP_KEEPINTVL 0", seti(t, SOL_TCP, TCP_KEEPINTVL, 0), EINVAL);
	EXPECT_ERRNO("TCP_KEEPCNT too big", seti(t, SOL_TCP, TCP_KEEPCNT, 128), EINVAL);
	GET("TCP_USER_TIMEOUT default", t, SOL_TCP, TCP_USER_TIMEOUT, 0);
	SETGET("TCP_USER_TIMEOUT", t, SOL_TCP, TCP_USER_TIMEOUT, 5000, 5000);
	EXPECT_ERRNO("TCP_USER_TIMEOUT negative", seti(t, SOL_TCP, TCP_USER_TIMEOUT, -1), EINVAL);
	GET("TCP_SYNCNT default", t, SOL_TCP, TCP_SYNCNT, 6);
	SETGET("TCP_SYNCNT", t, SOL_TCP, TCP_SYNCNT, 3, 3);
	EXPECT_ERRNO("TCP_SYNCNT 0", seti(t, SOL_TCP, TCP_SYNCNT, 0), EINVAL);
	GET("TCP_LINGER2 default", t, SOL_TCP, TCP_LINGER2, 60);
	SETGET("TCP_LINGER2", t, SOL_TCP, TCP_LINGER2, 30, 30);
	GET("TCP_DEFER_ACCEPT default", t, SOL_TCP, TCP_DEFER_ACCEPT, 0);
	GET("TCP_MAXSEG unconnected", t, SOL_TCP, TCP_MAXSEG, 536);
	l = sizeof cc;
	memset(cc, 0, sizeof cc);
	CHECK("TCP_CONGESTION get", getsockopt(t, SOL_TCP, TCP_CONGESTION, cc, &l) == 0 && cc[0] != 0);
	SYSOK("TCP_CONGESTION reno", setsockopt(t, SOL_TCP, TCP_CONGESTION, "reno", 4));
	l = sizeof cc;
	memset(cc, 0, sizeof cc);
	CHECK("TCP_CONGESTION is reno", getsockopt(t, SOL_TCP, TCP_CONGESTION, cc, &l) == 0 && strcmp(cc, "reno") == 0);
	EXPECT_ERRNO("TCP_CONGESTION unknown", setsockopt(t, SOL_TCP, TCP_CONGESTION, "nosuchcc", 8), ENOENT);
	EXPECT_ERRNO("TCP_NODELAY short", setsockopt(t, SOL_TCP, TCP_NODELAY, "", 2), EINVAL);
	EXPECT_ERRNO("unknown TCP option", seti(t, SOL_TCP, 9999, 1), ENOPROTOOPT);
	EXPECT_ERRNO("SOL_TCP on UDP set", seti(u, SOL_TCP, TCP_NODELAY, 1), ENOPROTOOPT);
	int v;
	l = sizeof v;
	EXPECT_ERRNO("SOL_TCP on UDP get", getsockopt(u, SOL_TCP, TCP_NODELAY, &v, &l), EOPNOTSUPP);

	/* TCP_INFO's state as a closed, listening and connected socket. */
	struct tcp_info ti;
	l = sizeof ti;
	CHECK("TCP_INFO closed", getsockopt(t, SOL_TCP, TCP_INFO, &ti, &l) == 0 && l == sizeof ti && ti.tcpi_state == TCP_CLOSE);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(t, (struct sockaddr *)&a, sizeof a);
	listen(t, 1);
	l = sizeof a;
	getsockname(t, (struct sockaddr *)&a, &l);
	l = sizeof ti;
	CHECK("TCP_INFO listening", getsockopt(t, SOL_TCP, TCP_INFO, &ti, &l) == 0 && ti.tcpi_state == TCP_LISTEN);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	connect(c, (struct sockaddr *)&a, sizeof a);
	l = sizeof ti;
	CHECK("TCP_INFO established", getsockopt(c, SOL_TCP, TCP_INFO, &ti, &l) == 0 && ti.tcpi_state == TCP_ESTABLISHED);
	l = 4;
	CHECK("TCP_INFO truncated", getsockopt(c, SOL_TCP, TCP_INFO, &ti, &l) == 0 && l == 4);
	int sv = accept(t, NULL, NULL), inq = -1, outq = -1;
	GET("accepted inherits TCP_NODELAY", sv, SOL_TCP, TCP_NODELAY, 1);
	GET("accepted inherits TCP_KEEPIDLE", sv, SOL_TCP, TCP_KEEPIDLE, 60);
	close(sv);
	CHECK("SIOCINQ 0", ioctl(c, SIOCINQ, &inq) == 0 && inq == 0);
	CHECK("SIOCOUTQ udp 0", ioctl(u, SIOCOUTQ, &outq) == 0 && outq == 0);
	EXPECT_ERRNO("SIOCINQ on listener", ioctl(t, SIOCINQ, &inq), EINVAL);
	close(c);
	close(t);
	close(u);
}

static void test_ip_level(void)
{
	int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned char b;
	socklen_t l;

	GET("IP_TTL default", u, SOL_IP, IP_TTL, 64);
	SETGET("IP_TTL", u, SOL_IP, IP_TTL, 10, 10);
	SETGET("IP_TTL -1 resets", u, SOL_IP, IP_TTL, -1, 64);
	EXPECT_ERRNO("IP_TTL 0", seti(u, SOL_IP, IP_TTL, 0), EINVAL);
	EXPECT_ERRNO("IP_TTL 256", seti(u, SOL_IP, IP_TTL, 256), EINVAL);
	l = 1;
	b = 0;
	CHECK("IP_TTL as one byte", getsockopt(u, SOL_IP, IP_TTL, &b, &l) == 0 && l == 1 && b == 64);
	GET("IP_TOS default", u, SOL_IP, IP_TOS, 0);
	SETGET("IP_TOS udp", u, SOL_IP, IP_TOS, 0x13, 0x13);
	SETGET("IP_TOS tcp keeps ECN bits", t, SOL_IP, IP_TOS, 0x13, 0x10);
	b = 0x20;
	CHECK("IP_TOS one byte", setsockopt(u, SOL_IP, IP_TOS, &b, 1) == 0 && geti(u, SOL_IP, IP_TOS) == 0x20);
	SETGET("IP_RECVTTL", u, SOL_IP, IP_RECVTTL, 1, 1);
	SETGET("IP_RECVTOS", u, SOL_IP, IP_RECVTOS, 1, 1);
	SETGET("IP_PKTINFO", u, SOL_IP, IP_PKTINFO, 1, 1);
	SETGET("IP_RECVERR", u, SOL_IP, IP_RECVERR, 1, 1);
	GET("IP_MULTICAST_TTL default", u, SOL_IP, IP_MULTICAST_TTL, 1);
	SETGET("IP_MULTICAST_TTL", u, SOL_IP, IP_MULTICAST_TTL, 5, 5);
	GET("IP_MULTICAST_LOOP default", u, SOL_IP, IP_MULTICAST_LOOP, 1);
	SETGET("IP_MULTICAST_LOOP", u, SOL_IP, IP_MULTICAST_LOOP, 0, 0);

	struct ip_mreqn m = {.imr_ifindex = 1};
	inet_pton(AF_INET, "224.0.0.251", &m.imr_multiaddr);
	SYSOK("IP_ADD_MEMBERSHIP", setsockopt(u, SOL_IP, IP_ADD_MEMBERSHIP, &m, sizeof m));
	SYSOK("IP_DROP_MEMBERSHIP", setsockopt(u, SOL_IP, IP_DROP_MEMBERSHIP, &m, sizeof m));
	EXPECT_ERRNO("IP_DROP_MEMBERSHIP again", setsockopt(u, SOL_IP, IP_DROP_MEMBERSHIP, &m, sizeof m), EADDRNOTAVAIL);
	inet_pton(AF_INET, "10.1.2.3", &m.imr_multiaddr);
	EXPECT_ERRNO("IP_ADD_MEMBERSHIP unicast", setsockopt(u, SOL_IP, IP_ADD_MEMBERSHIP, &m, sizeof m), EINVAL);
	EXPECT_ERRNO("IP_ADD_MEMBERSHIP short", setsockopt(u, SOL_IP, IP_ADD_MEMBERSHIP, &m, 4), EINVAL);
	EXPECT_ERRNO("unknown IP option", seti(u, SOL_IP, 9999, 1), ENOPROTOOPT);
	int v;
	l = sizeof v;
	EXPECT_ERRNO("unknown IP option get", getsockopt(u, SOL_IP, 9999, &v, &l), ENOPROTOOPT);
	EXPECT_ERRNO("SOL_IPV6 on AF_INET set", seti(u, SOL_IPV6, IPV6_V6ONLY, 1), ENOPROTOOPT);
	EXPECT_ERRNO("SOL_IPV6 on AF_INET get", getsockopt(u, SOL_IPV6, IPV6_V6ONLY, &v, &l), EOPNOTSUPP);
	EXPECT_ERRNO("unknown level set", seti(u, 12345, 1, 1), ENOPROTOOPT);
	EXPECT_ERRNO("unknown level get", getsockopt(u, 12345, 1, &v, &l), EOPNOTSUPP);
	close(t);
	close(u);
}

static void test_ipv6_level(void)
{
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	int v;
	socklen_t l = sizeof v;

	GET("IPV6_V6ONLY default", u, SOL_IPV6, IPV6_V6ONLY, 0);
	SETGET("IPV6_V6ONLY", u, SOL_IPV6, IPV6_V6ONLY, 1, 1);
	GET("IPV6_UNICAST_HOPS default", u, SOL_IPV6, IPV6_UNICAST_HOPS, 64);
	SETGET("IPV6_UNICAST_HOPS", u, SOL_IPV6, IPV6_UNICAST_HOPS, 9, 9);
	SETGET("IPV6_UNICAST_HOPS -1", u, SOL_IPV6, IPV6_UNICAST_HOPS, -1, 64);
	EXPECT_ERRNO("IPV6_UNICAST_HOPS 256", seti(u, SOL_IPV6, IPV6_UNICAST_HOPS, 256), EINVAL);
	GET("IPV6_TCLASS default", u, SOL_IPV6, IPV6_TCLASS, 0);
	SETGET("IPV6_TCLASS", u, SOL_IPV6, IPV6_TCLASS, 0x20, 0x20);
	SETGET("IPV6_RECVPKTINFO", u, SOL_IPV6, IPV6_RECVPKTINFO, 1, 1);
	SETGET("IPV6_RECVHOPLIMIT", u, SOL_IPV6, IPV6_RECVHOPLIMIT, 1, 1);
	SETGET("IPV6_RECVTCLASS", u, SOL_IPV6, IPV6_RECVTCLASS, 1, 1);
	GET("IPV6_MULTICAST_HOPS default", u, SOL_IPV6, IPV6_MULTICAST_HOPS, 1);
	GET("IPV6_MULTICAST_LOOP default", u, SOL_IPV6, IPV6_MULTICAST_LOOP, 1);
	EXPECT_ERRNO("IPV6_V6ONLY short", setsockopt(u, SOL_IPV6, IPV6_V6ONLY, "", 1), EINVAL);
	EXPECT_ERRNO("unknown IPv6 option", seti(u, SOL_IPV6, 9999, 1), ENOPROTOOPT);
	EXPECT_ERRNO("unknown IPv6 option get", getsockopt(u, SOL_IPV6, 9999, &v, &l), ENOPROTOOPT);
	GET("IP_TTL on AF_INET6", u, SOL_IP, IP_TTL, 64);
	close(u);
}

static void test_ioctls(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r;
	struct sockaddr_in *sin = (struct sockaddr_in *)&r.ifr_addr;

	memset(&r, 0, sizeof r);
	strcpy(r.ifr_name, "lo");
	CHECK("SIOCGIFINDEX lo", ioctl(s, SIOCGIFINDEX, &r) == 0 && r.ifr_ifindex == 1);
	memset(&r, 0, sizeof r);
	r.ifr_ifindex = 1;
	CHECK("SIOCGIFNAME 1", ioctl(s, SIOCGIFNAME, &r) == 0 && strcmp(r.ifr_name, "lo") == 0);
	r.ifr_ifindex = 999;
	EXPECT_ERRNO("SIOCGIFNAME unknown", ioctl(s, SIOCGIFNAME, &r), ENODEV);
	strcpy(r.ifr_name, "lo");
	CHECK("SIOCGIFFLAGS lo", ioctl(s, SIOCGIFFLAGS, &r) == 0 && r.ifr_flags == (IFF_UP | IFF_LOOPBACK | IFF_RUNNING));
	CHECK("SIOCGIFMTU lo", ioctl(s, SIOCGIFMTU, &r) == 0 && r.ifr_mtu == 65536);
	CHECK("SIOCGIFHWADDR lo", ioctl(s, SIOCGIFHWADDR, &r) == 0 && r.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK);
	CHECK("SIOCGIFADDR lo", ioctl(s, SIOCGIFADDR, &r) == 0 && sin->sin_family == AF_INET &&
					sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	CHECK("SIOCGIFNETMASK lo", ioctl(s, SIOCGIFNETMASK, &r) == 0 && sin->sin_addr.s_addr == htonl(0xff000000));
	CHECK("SIOCGIFTXQLEN lo", ioctl(s, SIOCGIFTXQLEN, &r) == 0 && r.ifr_qlen == 1000);
	strcpy(r.ifr_name, "nosuch0");
	EXPECT_ERRNO("SIOCGIFINDEX unknown", ioctl(s, SIOCGIFINDEX, &r), ENODEV);
	EXPECT_ERRNO("SIOCGIFFLAGS unknown", ioctl(s, SIOCGIFFLAGS, &r), ENODEV);

	struct ifreq reqs[8];
	struct ifconf ic = {.ifc_len = sizeof reqs, .ifc_req = reqs};
	CHECK("SIOCGIFCONF", ioctl(s, SIOCGIFCONF, &ic) == 0 && ic.ifc_len == (int)sizeof(struct ifreq) &&
				     strcmp(reqs[0].ifr_name, "lo") == 0 &&
				     ((struct sockaddr_in *)&reqs[0].ifr_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	ic = (struct ifconf){.ifc_len = 0, .ifc_req = NULL};
	CHECK("SIOCGIFCONF size query", ioctl(s, SIOCGIFCONF, &ic) == 0 && ic.ifc_len == (int)sizeof(struct ifreq));
	EXPECT_ERRNO("terminal ioctl on a socket", ioctl(s, TCGETS, &r), ENOTTY);
	close(s);
}

int main(void)
{
	test_socket_level();
	test_tcp_level();
	test_ip_level();
	test_ipv6_level();
	test_ioctls();
	return t_done();
}
