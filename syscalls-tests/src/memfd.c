/*
 * memfd: memfd_create(2) and file seals (fcntl F_ADD_SEALS/F_GET_SEALS).
 * - flags: invalid -> EINVAL, MFD_EXEC|MFD_NOEXEC_SEAL -> EINVAL; names of
 *   249 bytes ok, 250 -> EINVAL; bad name pointer -> EFAULT
 * - the file: regular, mode 0777 whatever the umask (0666 with
 *   MFD_NOEXEC_SEAL), size 0, one link; MFD_CLOEXEC sets FD_CLOEXEC;
 *   /proc/self/fd and /proc/self/maps name it "/memfd:NAME (deleted)"
 * - read/write/lseek/ftruncate/mmap behave as a tmpfs file, coherently;
 *   a forked child shares it
 * - seals: F_SEAL_SEAL without MFD_ALLOW_SEALING (adding: EPERM); unknown
 *   seal bits -> EINVAL; SHRINK/GROW refuse ftruncate and growing writes
 *   with EPERM; WRITE -> EBUSY while a shared writable mapping exists,
 *   then write(2) and shared PROT_WRITE mmap -> EPERM, a shared read-only
 *   mapping cannot be mprotect'ed writable (EACCES), private writable
 *   mappings still work; FUTURE_WRITE keeps existing mappings writable;
 *   SEAL_SEAL freezes the set; EXEC refuses exec-bit chmods
 * - F_GET_SEALS on a tmpfs file: F_SEAL_SEAL; on a device: EINVAL
 */
#include "t.h"
#include <sys/mman.h>
#include <sys/wait.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static int mfd(const char *name, unsigned flags)
{
	return syscall(SYS_memfd_create, name, flags);
}

/* maps_has returns whether /proc/self/maps mentions s. */
static int maps_has(const char *s)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, s))
			found = 1;
	fclose(f);
	return found;
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char buf[300], name[300];
	struct stat st;

	EXPECT_ERRNO("unknown flag -> EINVAL", mfd("x", 0x100), EINVAL);
	EXPECT_ERRNO("MFD_EXEC|MFD_NOEXEC_SEAL -> EINVAL", mfd("x", MFD_EXEC | MFD_NOEXEC_SEAL), EINVAL);
	EXPECT_ERRNO("bad name pointer -> EFAULT", mfd((char *)8, 0), EFAULT);
	memset(name, 'n', 250);
	name[250] = 0;
	EXPECT_ERRNO("250-byte name -> EINVAL", mfd(name, 0), EINVAL);
	name[249] = 0;
	int l = mfd(name, 0);
	CHECK("249-byte name ok", l >= 0);
	close(l);

	umask(077);
	int fd = mfd("test", 0);
	CHECK("memfd_create", fd >= 0);
	MUST("fstat", fstat(fd, &st));
	EXPECT_EQ("mode S_IFREG|0777 regardless of umask", st.st_mode, S_IFREG | 0777);
	CHECK("size 0, no links", st.st_size == 0 && st.st_nlink == 0);
	EXPECT_EQ("no FD_CLOEXEC", fcntl(fd, F_GETFD), 0);
	EXPECT_EQ("O_RDWR", fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(name, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK("/proc/self/fd name", strcmp(buf, "/memfd:test (deleted)") == 0);

	CHECK("write", write(fd, "hello memfd", 11) == 11);
	CHECK("lseek", lseek(fd, 0, SEEK_SET) == 0);
	CHECK("read back", read(fd, buf, 11) == 11 && memcmp(buf, "hello memfd", 11) == 0);
	SYSOK("ftruncate", ftruncate(fd, 2 * pg));
	fstat(fd, &st);
	EXPECT_EQ("size after ftruncate", st.st_size, 2 * pg);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("mmap shared", m != MAP_FAILED && memcmp(m, "hello", 5) == 0);
	CHECK("maps names the memfd", maps_has("/memfd:test (deleted)"));
	memcpy(m + pg, "via map", 7);
	CHECK("store seen by pread", pread(fd, buf, 7, pg) == 7 && memcmp(buf, "via map", 7) == 0);
	pid_t c = fork();
	if (c == 0) {
		memcpy(m, "CHILD", 5);
		_exit(pwrite(fd, "x", 1, 20) == 1 ? 0 : 1);
	}
	int ws;
	waitpid(c, &ws, 0);
	CHECK("child shares the memfd", WIFEXITED(ws) && WEXITSTATUS(ws) == 0 &&
	      pread(fd, buf, 5, 0) == 5 && memcmp(buf, "CHILD", 5) == 0 && m[20] == 'x');
	EXPECT_EQ("seals without MFD_ALLOW_SEALING", fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_ERRNO("F_ADD_SEALS without MFD_ALLOW_SEALING -> EPERM", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	SYSOK("fchmod", fchmod(fd, 0600));
	fstat(fd, &st);
	EXPECT_EQ("mode after fchmod", st.st_mode & 07777, 0600);
	munmap(m, 2 * pg);
	close(fd);
	umask(022);

	fd = mfd("cloexec", MFD_CLOEXEC);
	EXPECT_EQ("MFD_CLOEXEC sets FD_CLOEXEC", fcntl(fd, F_GETFD), FD_CLOEXEC);
	close(fd);

	/* Sealing. */
	fd = mfd("sealed", MFD_ALLOW_SEALING);
	CHECK("MFD_ALLOW_SEALING", fd >= 0);
	EXPECT_EQ("no seals yet", fcntl(fd, F_GET_SEALS), 0);
	EXPECT_ERRNO("unknown seal -> EINVAL", fcntl(fd, F_ADD_SEALS, 0x100), EINVAL);
	MUST("write", write(fd, "0123456789", 10));
	SYSOK("add F_SEAL_SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	EXPECT_ERRNO("shrink -> EPERM", ftruncate(fd, 5), EPERM);
	SYSOK("grow ok", ftruncate(fd, 20));
	SYSOK("same size ok", ftruncate(fd, 20));
	SYSOK("add F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	EXPECT_ERRNO("grow -> EPERM", ftruncate(fd, 30), EPERM);
	EXPECT_ERRNO("growing write -> EPERM", pwrite(fd, "abc", 3, 19), EPERM);
	CHECK("write inside ok", pwrite(fd, "abc", 3, 17) == 3);
	EXPECT_ERRNO("append -> EPERM", (lseek(fd, 0, SEEK_END), write(fd, "z", 1)), EPERM);
	EXPECT_ERRNO("fallocate growing -> EPERM", fallocate(fd, 0, 0, 4096), EPERM);
	EXPECT_ERRNO("fallocate KEEP_SIZE past EOF -> EPERM", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096), EPERM);
	SYSOK("fallocate inside ok", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 10));

	m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("shared writable mapping", m != MAP_FAILED);
	EXPECT_ERRNO("F_SEAL_WRITE with writable mapping -> EBUSY", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	char *ro = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	munmap(m, pg);
	CHECK("read-only fd-writable mapping blocks too",
	      fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1 && errno == EBUSY);
	munmap(ro, pg);
	SYSOK("F_SEAL_WRITE after munmap", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_ERRNO("write -> EPERM", pwrite(fd, "q", 1, 0), EPERM);
	EXPECT_EQ("zero-length write ok", pwrite(fd, "q", 0, 0), 0);
	EXPECT_ERRNO("shared PROT_WRITE mmap -> EPERM",
		     (long)mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
	ro = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	CHECK("shared read-only mmap ok", ro != MAP_FAILED && memcmp(ro, "0123456789", 10) == 0);
	EXPECT_ERRNO("mprotect it writable -> EACCES", mprotect(ro, pg, PROT_READ | PROT_WRITE), EACCES);
	char *pv = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK("private writable mmap ok", pv != MAP_FAILED);
	pv[0] = 'P';
	CHECK("private store stays private", ro[0] == '0');
	munmap(ro, pg);
	munmap(pv, pg);
	EXPECT_EQ("seals so far", fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	SYSOK("add F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	EXPECT_ERRNO("add after F_SEAL_SEAL -> EPERM", fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC), EPERM);
	SYSOK("adding nothing is still checked", fcntl(fd, F_GET_SEALS));
	close(fd);

	/* F_SEAL_FUTURE_WRITE: existing mappings stay writable. */
	fd = mfd("future", MFD_ALLOW_SEALING);
	MUST("ftruncate", ftruncate(fd, pg));
	m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	SYSOK("F_SEAL_FUTURE_WRITE with a writable mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	m[0] = 'F';
	CHECK("existing mapping still writable", pread(fd, buf, 1, 0) == 1 && buf[0] == 'F');
	EXPECT_ERRNO("write -> EPERM", pwrite(fd, "q", 1, 0), EPERM);
	EXPECT_ERRNO("new shared PROT_WRITE mmap -> EPERM",
		     (long)mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
	SYSOK("shrink still allowed", ftruncate(fd, 10));
	munmap(m, pg);
	close(fd);

	/* Exec seals. */
	fd = mfd("noexec", MFD_NOEXEC_SEAL);
	fstat(fd, &st);
	EXPECT_EQ("MFD_NOEXEC_SEAL mode 0666", st.st_mode & 07777, 0666);
	EXPECT_EQ("MFD_NOEXEC_SEAL seals", fcntl(fd, F_GET_SEALS), F_SEAL_EXEC);
	EXPECT_ERRNO("chmod +x -> EPERM", fchmod(fd, 0755), EPERM);
	SYSOK("chmod keeping exec bits ok", fchmod(fd, 0600));
	SYSOK("more seals allowed", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	close(fd);
	fd = mfd("exec", MFD_EXEC | MFD_ALLOW_SEALING);
	fstat(fd, &st);
	EXPECT_EQ("MFD_EXEC mode 0777", st.st_mode & 07777, 0777);
	SYSOK("F_SEAL_EXEC on an executable memfd", fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC));
	EXPECT_EQ("it implies the write seals", fcntl(fd, F_GET_SEALS),
		  F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
	close(fd);

	/* Other files. */
	char path[] = "/dev/shm/memfd_test.XXXXXX";
	int tf = mkstemp(path);
	MUST("mkstemp", tf);
	unlink(path);
	EXPECT_EQ("tmpfs file has F_SEAL_SEAL", fcntl(tf, F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_ERRNO("adding to a tmpfs file -> EPERM", fcntl(tf, F_ADD_SEALS, F_SEAL_GROW), EPERM);
	close(tf);
	int dn = open("/dev/null", O_RDWR);
	EXPECT_ERRNO("F_GET_SEALS on /dev/null -> EINVAL", fcntl(dn, F_GET_SEALS), EINVAL);
	close(dn);
	return t_done();
}
