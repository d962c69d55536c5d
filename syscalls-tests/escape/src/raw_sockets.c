/* Raw, packet and netlink sockets: the sandbox has no host network.
 * The sentry implements AF_UNIX only, so every other family is refused
 * with EAFNOSUPPORT (what a kernel without the family says); once a family
 * is implemented it must stay sandbox-internal (its own network stack),
 * and this test must then check that instead. */
#include "e.h"
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(void)
{
	EXPECT_ERRNO("socket(AF_INET, SOCK_RAW)", socket(AF_INET, SOCK_RAW, IPPROTO_RAW), EAFNOSUPPORT);
	EXPECT_ERRNO("socket(AF_INET6, SOCK_RAW)", socket(AF_INET6, SOCK_RAW, IPPROTO_RAW), EAFNOSUPPORT);
	EXPECT_ERRNO("socket(AF_PACKET, SOCK_RAW)", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), EAFNOSUPPORT);
	EXPECT_ERRNO("socket(AF_NETLINK, ROUTE)", socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), EAFNOSUPPORT);
	EXPECT_ERRNO("socket(AF_NETLINK, AUDIT)", socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT), EAFNOSUPPORT);
	EXPECT_ERRNO("socket(AF_INET, SOCK_STREAM)", socket(AF_INET, SOCK_STREAM, 0), EAFNOSUPPORT);
	EXPECT_ERRNO("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0}), EAFNOSUPPORT);
	return t_done();
}
