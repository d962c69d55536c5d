/* Host devices are not in the sandbox's /dev, and a device node the app
 * makes never opens a host device: /tmp is mounted nodev (EACCES, as on
 * Linux), and elsewhere the sentry opens only its own devices (null, zero,
 * full, random, urandom, tty; others ENXIO). */
#include "e.h"
#include <sys/sysmacros.h>

int main(void)
{
	const char *absent[] = {"/dev/kvm", "/dev/mem", "/dev/kmem", "/dev/port", "/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/kmsg", "/dev/fuse", "/dev/net/tun", "/dev/vhost-net", "/dev/uinput"};
	for (unsigned i = 0; i < sizeof absent / sizeof absent[0]; i++) {
		char what[64];
		snprintf(what, sizeof what, "open %s is ENOENT", absent[i]);
		EXPECT_ERRNO(what, open(absent[i], O_RDWR), ENOENT);
	}
	SYSOK("mknod /tmp/mem (1,1)", mknod("/tmp/mem", S_IFCHR | 0600, makedev(1, 1)));
	EXPECT_ERRNO("open of a made /dev/mem node on nodev /tmp", open("/tmp/mem", O_RDONLY), EACCES);
	SYSOK("mknod /tmp/kvm (10,232)", mknod("/tmp/kvm", S_IFCHR | 0600, makedev(10, 232)));
	EXPECT_ERRNO("open of a made kvm node on nodev /tmp", open("/tmp/kvm", O_RDWR), EACCES);
	SYSOK("mknod /tmp/vda (block 253,0)", mknod("/tmp/vda", S_IFBLK | 0600, makedev(253, 0)));
	EXPECT_ERRNO("open of a made block node on nodev /tmp", open("/tmp/vda", O_RDONLY), EACCES);
	/* The sandbox's /dev is not nodev: there a made node of a device the
	 * sentry does not provide is ENXIO. */
	if (mknod("/dev/mem", S_IFCHR | 0600, makedev(1, 1)) == 0) {
		EXPECT_ERRNO("open of a made /dev/mem is ENXIO", open("/dev/mem", O_RDONLY), ENXIO);
		unlink("/dev/mem");
	} else {
		t_ok("no device nodes can be made in /dev");
	}
	int fd = open("/dev/null", O_RDWR);
	CHECK("the sentry's own /dev/null works", fd >= 0 && write(fd, "x", 1) == 1);
	return t_done();
}
