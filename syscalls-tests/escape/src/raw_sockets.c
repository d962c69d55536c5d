/* Raw, packet and netlink sockets: the sandbox has no host network
 * (networking off: sockets are not implemented for the app yet, ENOSYS;
 * once they are, these families must stay refused or sandbox-internal). */
#include "e.h"
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(void)
{
	EXPECT_ERRNO("socket(AF_INET, SOCK_RAW)", socket(AF_INET, SOCK_RAW, IPPROTO_RAW), ENOSYS);
	EXPECT_ERRNO("socket(AF_INET6, SOCK_RAW)", socket(AF_INET6, SOCK_RAW, IPPROTO_RAW), ENOSYS);
	EXPECT_ERRNO("socket(AF_PACKET, SOCK_RAW)", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), ENOSYS);
	EXPECT_ERRNO("socket(AF_NETLINK, ROUTE)", socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), ENOSYS);
	EXPECT_ERRNO("socket(AF_NETLINK, AUDIT)", socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT), ENOSYS);
	EXPECT_ERRNO("socket(AF_INET, SOCK_STREAM)", socket(AF_INET, SOCK_STREAM, 0), ENOSYS);
	EXPECT_ERRNO("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0}), ENOSYS);
	return t_done();
}
