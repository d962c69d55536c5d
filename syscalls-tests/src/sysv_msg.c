/*
 * sysv_msg: System V message queues (msgget, msgsnd, msgrcv, msgctl), run
 * in a fresh IPC namespace.
 * - messages queue in order; msgrcv by type: 0 (first), >0 (that type),
 *   <0 (lowest type up to |type|), MSG_EXCEPT (any other type)
 * - E2BIG for a short buffer (the message stays), MSG_NOERROR truncates
 *   (and removes it); ENOMSG with IPC_NOWAIT; MSG_COPY peeks by index
 * - msgsnd errors: mtype < 1, size > MSGMAX or negative (EINVAL), bad
 *   buffer (EFAULT)
 * - byte limit: a full queue gives EAGAIN with IPC_NOWAIT, else the sender
 *   waits until a receive makes room; IPC_SET msg_qbytes
 * - a blocked receiver gets a later message of its type, EIDRM on removal,
 *   EINTR on a signal
 * - IPC_STAT (counts, pids), IPC_INFO/MSG_INFO, keys (EEXIST, ENOENT)
 */
#include "t.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/wait.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct mbuf {
	long mtype;
	char mtext[64];
};

static volatile int *sh;

static void on_usr1(int sig)
{
	(void)sig;
}

static int child_status(pid_t c)
{
	int ws;
	if (waitpid(c, &ws, 0) != c || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

static int snd(int q, long type, const char *text, int flg)
{
	struct mbuf m = { .mtype = type };
	strcpy(m.mtext, text);
	return msgsnd(q, &m, strlen(text), flg);
}

/* rcv returns "type:text" of the received message, or "errno NAME". */
static const char *rcv(int q, long type, size_t size, int flg)
{
	static char out[128];
	struct mbuf m;
	memset(&m, 0, sizeof m);
	ssize_t n = msgrcv(q, &m, size, type, flg);
	if (n < 0)
		snprintf(out, sizeof out, "errno %s", t_errname(errno));
	else
		snprintf(out, sizeof out, "%ld:%.*s", m.mtype, (int)n, m.mtext);
	return out;
}

#define EXPECT_STR(what, got, want)                                          \
	do {                                                                 \
		const char *g_ = (got);                                      \
		if (strcmp(g_, (want)) == 0)                                 \
			t_ok(what);                                          \
		else                                                         \
			t_fail("%s: got \"%s\", want \"%s\"", what, g_, want); \
	} while (0)

static void wait_for(int idx, int v)
{
	for (int i = 0; i < 5000 && sh[idx] != v; i++)
		usleep(1000);
}

int main(void)
{
	struct msqid_ds ds;
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", sh == MAP_FAILED ? -1 : 0);

	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	CHECK("msgget", q >= 0);
	SYSOK("IPC_STAT", msgctl(q, IPC_STAT, &ds));
	CHECK("empty, qbytes 16384", ds.msg_qnum == 0 && ds.__msg_cbytes == 0 && ds.msg_qbytes == 16384 &&
	      ds.msg_lspid == 0 && ds.msg_lrpid == 0 && ds.msg_stime == 0 && ds.msg_ctime != 0);

	SYSOK("send type 3", snd(q, 3, "three", 0));
	SYSOK("send type 1", snd(q, 1, "one", 0));
	SYSOK("send type 2", snd(q, 2, "two", 0));
	SYSOK("send type 1 again", snd(q, 1, "uno", 0));
	msgctl(q, IPC_STAT, &ds);
	CHECK("4 messages, 14 bytes, lspid us", ds.msg_qnum == 4 && ds.__msg_cbytes == 14 && ds.msg_lspid == getpid() && ds.msg_stime != 0);
	EXPECT_STR("MSG_COPY peeks at index 2", rcv(q, 2, 64, MSG_COPY | IPC_NOWAIT), "2:two");
	EXPECT_STR("MSG_COPY past the end -> ENOMSG", rcv(q, 9, 64, MSG_COPY | IPC_NOWAIT), "errno ENOMSG");
	EXPECT_STR("MSG_COPY without IPC_NOWAIT -> EINVAL", rcv(q, 0, 64, MSG_COPY), "errno EINVAL");
	EXPECT_STR("type 0 takes the first", rcv(q, 0, 64, 0), "3:three");
	EXPECT_STR("type 2", rcv(q, 2, 64, 0), "2:two");
	SYSOK("send type 5", snd(q, 5, "five", 0));
	EXPECT_STR("MSG_EXCEPT 1", rcv(q, 1, 64, MSG_EXCEPT), "5:five");
	SYSOK("send type 4", snd(q, 4, "four", 0));
	EXPECT_STR("negative type: lowest up to 4", rcv(q, -4, 64, 0), "1:one");
	EXPECT_STR("E2BIG for a short buffer", rcv(q, 0, 2, 0), "errno E2BIG");
	EXPECT_STR("message stayed", rcv(q, 1, 64, IPC_NOWAIT), "1:uno");
	EXPECT_STR("MSG_NOERROR truncates", rcv(q, 0, 2, MSG_NOERROR), "4:fo");
	EXPECT_STR("truncated message is gone", rcv(q, 0, 64, IPC_NOWAIT), "errno ENOMSG");
	msgctl(q, IPC_STAT, &ds);
	CHECK("empty again, lrpid us", ds.msg_qnum == 0 && ds.__msg_cbytes == 0 && ds.msg_lrpid == getpid() && ds.msg_rtime != 0);

	struct mbuf m = { .mtype = 0 };
	EXPECT_ERRNO("mtype 0 -> EINVAL", msgsnd(q, &m, 1, 0), EINVAL);
	m.mtype = 1;
	EXPECT_ERRNO("size > MSGMAX -> EINVAL", msgsnd(q, &m, 8193, 0), EINVAL);
	EXPECT_ERRNO("negative size -> EINVAL", msgsnd(q, &m, (size_t)-1, 0), EINVAL);
	EXPECT_ERRNO("bad buffer -> EFAULT", msgsnd(q, (void *)8, 1, 0), EFAULT);
	EXPECT_ERRNO("bad id -> EINVAL", msgsnd(q + 1, &m, 1, 0), EINVAL);
	SYSOK("empty message", msgsnd(q, &m, 0, 0));
	EXPECT_STR("receive it", rcv(q, 0, 64, 0), "1:");
	EXPECT_ERRNO("msgrcv bad id -> EINVAL", msgrcv(-1, &m, 1, 0, 0), EINVAL);

	/* Byte limit. */
	msgctl(q, IPC_STAT, &ds);
	ds.msg_qbytes = 10;
	SYSOK("IPC_SET msg_qbytes 10", msgctl(q, IPC_SET, &ds));
	SYSOK("8 bytes fit", snd(q, 1, "12345678", 0));
	EXPECT_ERRNO("8 more do not -> EAGAIN", snd(q, 1, "abcdefgh", IPC_NOWAIT), EAGAIN);
	pid_t c = fork();
	if (c == 0) {
		int r = snd(q, 2, "abcdefgh", 0);
		sh[0] = r == 0 ? 2 : errno;
		_exit(0);
	}
	usleep(100000);
	EXPECT_EQ("sender blocked", sh[0], 0);
	EXPECT_STR("receive makes room", rcv(q, 1, 64, 0), "1:12345678");
	EXPECT_EQ("blocked sender completed", (child_status(c), sh[0]), 2);
	EXPECT_STR("its message arrived", rcv(q, 0, 64, IPC_NOWAIT), "2:abcdefgh");
	sh[0] = 0;
	ds.msg_qbytes = 16384;
	SYSOK("IPC_SET msg_qbytes back", msgctl(q, IPC_SET, &ds));
	msgctl(q, IPC_STAT, &ds);
	EXPECT_EQ("msg_qbytes", ds.msg_qbytes, 16384);

	/* A blocked receiver. */
	c = fork();
	if (c == 0) {
		struct mbuf r;
		ssize_t n = msgrcv(q, &r, sizeof r.mtext, 7, 0);
		sh[0] = n == 5 && r.mtype == 7 && memcmp(r.mtext, "seven", 5) == 0 ? 2 : errno;
		_exit(0);
	}
	usleep(100000);
	SYSOK("send another type", snd(q, 6, "six", 0));
	usleep(50000);
	EXPECT_EQ("receiver still waiting", sh[0], 0);
	SYSOK("send its type", snd(q, 7, "seven", 0));
	EXPECT_EQ("receiver got it", (child_status(c), sh[0]), 2);
	msgctl(q, IPC_STAT, &ds);
	CHECK("lrpid is the receiver's", ds.msg_lrpid == c);
	EXPECT_STR("the other stayed queued", rcv(q, 0, 64, IPC_NOWAIT), "6:six");
	sh[0] = 0;

	/* A signal interrupts msgrcv with EINTR (SA_RESTART does not help). */
	c = fork();
	if (c == 0) {
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
		sigaction(SIGUSR1, &sa, NULL);
		sh[1] = 1;
		struct mbuf r;
		ssize_t n = msgrcv(q, &r, sizeof r.mtext, 0, 0);
		sh[0] = n >= 0 ? 2 : errno;
		_exit(0);
	}
	wait_for(1, 1);
	usleep(100000);
	kill(c, SIGUSR1);
	EXPECT_EQ("msgrcv interrupted -> EINTR", (child_status(c), sh[0]), EINTR);
	sh[0] = sh[1] = 0;

	/* Keys and info. */
	key_t key = 0x4d4d0001;
	int k = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
	CHECK("msgget key", k >= 0 && k != q);
	EXPECT_EQ("lookup by key", msgget(key, 0), k);
	EXPECT_ERRNO("IPC_CREAT|IPC_EXCL -> EEXIST", msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	EXPECT_ERRNO("unknown key -> ENOENT", msgget(0x4d4d0002, 0), ENOENT);
	snd(k, 1, "abc", 0);
	snd(k, 1, "de", 0);
	struct msginfo mi;
	int mx = msgctl(0, IPC_INFO, (struct msqid_ds *)&mi);
	CHECK("IPC_INFO limits", mx >= 0 && mi.msgmax == 8192 && mi.msgmnb == 16384 && mi.msgmni == 32000 &&
	      mi.msgssz == 16 && mi.msgseg == 0xffff && mi.msgpool == 512000 && mi.msgmap == 16384 && mi.msgtql == 16384);
	EXPECT_EQ("MSG_INFO max index agrees", msgctl(0, MSG_INFO, (struct msqid_ds *)&mi), mx);
	CHECK("MSG_INFO usage: 2 queues, 2 messages, 5 bytes", mi.msgpool == 2 && mi.msgmap == 2 && mi.msgtql == 5);

	/* Removal under a waiter. */
	c = fork();
	if (c == 0) {
		struct mbuf r;
		ssize_t n = msgrcv(q, &r, sizeof r.mtext, 0, 0);
		sh[0] = n >= 0 ? 2 : errno;
		_exit(0);
	}
	usleep(100000);
	SYSOK("IPC_RMID", msgctl(q, IPC_RMID, NULL));
	EXPECT_EQ("waiter gets EIDRM", (child_status(c), sh[0]), EIDRM);
	EXPECT_ERRNO("removed -> EINVAL", msgctl(q, IPC_STAT, &ds), EINVAL);
	SYSOK("IPC_RMID with messages", msgctl(k, IPC_RMID, NULL));
	msgctl(0, MSG_INFO, (struct msqid_ds *)&mi);
	CHECK("MSG_INFO empty", mi.msgpool == 0 && mi.msgmap == 0 && mi.msgtql == 0);
	EXPECT_ERRNO("bad cmd -> EINVAL", msgctl(k, 99, &ds), EINVAL);
	return t_done();
}
