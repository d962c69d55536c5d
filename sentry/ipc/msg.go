package ipc

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/sentry/syserr"
)

// Message queue limits (include/uapi/linux/msg.h defaults).
const (
	msgMNI  = 32000
	msgMax  = 8192
	msgMNB  = 16384
	msgPool = msgMNI * msgMNB / 1024
	msgTQL  = msgMNB
	msgMap  = msgMNB
	msgSSZ  = 16
	msgSeg  = 0xffff

	// MsgMax is the largest message (msgmax).
	MsgMax = msgMax
)

// msgrcv flags and msgctl commands (include/uapi/linux/msg.h).
const (
	MsgNoerror = 0o10000
	MsgExcept  = 0o20000
	MsgCopy    = 0o40000

	MsgStat    = 11
	MsgInfo    = 12
	MsgStatAny = 13

	// capSysResource is CAP_SYS_RESOURCE (raising msg_qbytes).
	capSysResource = 24
)

// Message is a queued message (struct msg_msg).
type Message struct {
	Type int64
	Text []byte
}

// Queue is a message queue (struct msg_queue).
type Queue struct {
	ns *Namespace

	// The fields below are protected by ns.mu.
	perm         perm
	msgs         []*Message
	cbytes       int
	qbytes       int
	stime, rtime int64
	lspid, lrpid int32
	// receivers are the blocked msgrcv(2) callers, oldest first; a new
	// message goes straight to the first that accepts it
	// (pipelined_send()).
	receivers []*msgReceiver
	// senders wakes blocked msgsnd(2) callers to retry when room is made
	// (ss_wakeup()).
	senders waiter.Queue
}

func (q *Queue) ipcPerm() *perm { return &q.perm }

// Search modes (convert_mode()).
const (
	searchAny = iota
	searchEqual
	searchNotEqual
	searchLessEqual
	searchNumber
)

// msgReceiver is a blocked msgrcv (struct msg_receiver).
type msgReceiver struct {
	typ     int64
	mode    int
	maxSize int
	pid     int32
	// msg or err is the result, set by the waker before done is
	// closed; both protected by ns.mu.
	done chan struct{}
	msg  *Message
	err  error
}

// MsgGet implements msgget(2) (newque()).
func (ns *Namespace) MsgGet(ctx Context, key int32, flg int32) (int32, error) {
	c := ctx.Credentials()
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return get(&ns.msgs, c, getParams[*Queue]{
		key: key, flg: flg,
		create: func() (*Queue, error) {
			if len(ns.msgs.byIdx) >= msgMNI {
				return nil, unix.ENOSPC
			}
			return &Queue{ns: ns, perm: newPerm(c, key, flg), qbytes: msgMNB}, nil
		},
	})
}

// fitsLocked is msg_fits_inqueue().
func (q *Queue) fitsLocked(size int) bool {
	return size+q.cbytes <= q.qbytes && 1+len(q.msgs) <= q.qbytes
}

func testMsg(m *Message, typ int64, mode int) bool {
	switch mode {
	case searchEqual:
		return m.Type == typ
	case searchNotEqual:
		return m.Type != typ
	case searchLessEqual:
		return m.Type <= typ
	}
	return true
}

// MsgSnd implements msgsnd(2) after the syscall layer's checks (do_msgsnd()):
// the caller needs write permission; a full queue makes it wait (EAGAIN
// with IPC_NOWAIT), interruptibly (restarted only without a handler), and
// fail with EIDRM if the queue goes away.
func (ns *Namespace) MsgSnd(ctx Context, pid int32, id int32, m *Message, flg int32) error {
	ns.mu.Lock()
	q, err := ns.msgs.find(id)
	if err != nil {
		ns.mu.Unlock()
		return err
	}
	for {
		if !q.perm.check(ctx.Credentials(), mayWrite) {
			ns.mu.Unlock()
			return unix.EACCES
		}
		if q.perm.removed {
			ns.mu.Unlock()
			return unix.EIDRM
		}
		if q.fitsLocked(len(m.Text)) {
			break
		}
		if flg&IPCNowait != 0 {
			ns.mu.Unlock()
			return unix.EAGAIN
		}
		e, ch := waiter.NewChannelEntry(waiter.WritableEvents)
		q.senders.EventRegister(&e)
		ns.mu.Unlock()
		var interrupted bool
		select {
		case <-ch:
		case <-ctx.InterruptChan():
			interrupted = ctx.Interrupted()
		}
		q.senders.EventUnregister(&e)
		ns.mu.Lock()
		if q.perm.removed {
			ns.mu.Unlock()
			return unix.EIDRM
		}
		if interrupted {
			ns.mu.Unlock()
			return syserr.ERestartNoHand
		}
	}
	q.lspid = pid
	q.stime = now()
	if !q.pipelinedSendLocked(m) {
		q.msgs = append(q.msgs, m)
		q.cbytes += len(m.Text)
		ns.msgBytes += len(m.Text)
		ns.msgHdrs++
	}
	ns.mu.Unlock()
	return nil
}

// pipelinedSendLocked hands m to the first blocked receiver that wants it
// (pipelined_send()); receivers whose buffer is too small fail with E2BIG
// on the way. It reports whether a receiver took it.
//
// Preconditions: ns.mu is held.
func (q *Queue) pipelinedSendLocked(m *Message) bool {
	for i := 0; i < len(q.receivers); i++ {
		r := q.receivers[i]
		if !testMsg(m, r.typ, r.mode) {
			continue
		}
		q.receivers = append(q.receivers[:i], q.receivers[i+1:]...)
		i--
		if len(m.Text) > r.maxSize {
			r.err = unix.E2BIG
			close(r.done)
			continue
		}
		r.msg = m
		q.lrpid = r.pid
		q.rtime = now()
		close(r.done)
		return true
	}
	return false
}

// convertMode is convert_mode(): 0 takes any message, a positive type
// that type (or any other with MSG_EXCEPT), a negative one the lowest type
// up to its absolute value; MSG_COPY takes the typ-th message.
func convertMode(typ *int64, flg int32) int {
	switch {
	case flg&MsgCopy != 0:
		return searchNumber
	case *typ == 0:
		return searchAny
	case *typ < 0:
		if *typ == math.MinInt64 {
			*typ = math.MaxInt64
		} else {
			*typ = -*typ
		}
		return searchLessEqual
	case flg&MsgExcept != 0:
		return searchNotEqual
	}
	return searchEqual
}

// findLocked returns the index of the message a receiver takes
// (find_msg()), or -1.
//
// Preconditions: ns.mu is held.
func (q *Queue) findLocked(typ int64, mode int) int {
	found := -1
	for i, m := range q.msgs {
		switch mode {
		case searchNumber:
			if int64(i) == typ {
				return i
			}
		case searchLessEqual:
			if m.Type <= typ && (found < 0 || m.Type < q.msgs[found].Type) {
				found = i
			}
		default:
			if testMsg(m, typ, mode) {
				return i
			}
		}
	}
	return found
}

// MsgRcv implements msgrcv(2) (do_msgrcv()): it returns the message,
// already removed from the queue (unless MSG_COPY), or waits for one
// (ENOMSG with IPC_NOWAIT). A message longer than bufsz fails with E2BIG
// unless MSG_NOERROR, which truncates it (the caller copies at most bufsz
// bytes).
func (ns *Namespace) MsgRcv(ctx Context, pid int32, id int32, bufsz int64, typ int64, flg int32) (*Message, error) {
	if id < 0 || bufsz < 0 {
		return nil, unix.EINVAL
	}
	if flg&MsgCopy != 0 && (flg&MsgExcept != 0 || flg&IPCNowait == 0) {
		return nil, unix.EINVAL
	}
	mode := convertMode(&typ, flg)
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, err := ns.msgs.find(id)
	if err != nil {
		return nil, err
	}
	for {
		if !q.perm.check(ctx.Credentials(), mayRead) {
			return nil, unix.EACCES
		}
		if q.perm.removed {
			return nil, unix.EIDRM
		}
		if i := q.findLocked(typ, mode); i >= 0 {
			m := q.msgs[i]
			if int64(len(m.Text)) > bufsz && flg&MsgNoerror == 0 {
				return nil, unix.E2BIG
			}
			if mode == searchNumber {
				return &Message{Type: m.Type, Text: append([]byte(nil), m.Text...)}, nil
			}
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			q.rtime = now()
			q.lrpid = pid
			q.cbytes -= len(m.Text)
			ns.msgBytes -= len(m.Text)
			ns.msgHdrs--
			q.senders.Notify(waiter.WritableEvents)
			return m, nil
		}
		if flg&IPCNowait != 0 {
			return nil, unix.ENOMSG
		}
		r := &msgReceiver{typ: typ, mode: mode, maxSize: int(min(bufsz, math.MaxInt32)), pid: pid, done: make(chan struct{})}
		if flg&MsgNoerror != 0 {
			r.maxSize = math.MaxInt32
		}
		q.receivers = append(q.receivers, r)
		ns.mu.Unlock()
		interrupted := false
		select {
		case <-r.done:
		case <-ctx.InterruptChan():
			interrupted = ctx.Interrupted()
		}
		ns.mu.Lock()
		select {
		case <-r.done:
			if r.err == unix.EAGAIN {
				// Expunged by IPC_SET: look again.
				continue
			}
			return r.msg, r.err
		default:
		}
		for i, o := range q.receivers {
			if o == r {
				q.receivers = append(q.receivers[:i], q.receivers[i+1:]...)
				break
			}
		}
		if interrupted {
			return nil, syserr.ERestartNoHand
		}
	}
}

// expungeLocked wakes every blocked receiver with err (expunge_all()).
//
// Preconditions: ns.mu is held.
func (q *Queue) expungeLocked(err error) {
	for _, r := range q.receivers {
		r.err = err
		close(r.done)
	}
	q.receivers = nil
}

// MsqidDS is struct msqid64_ds.
type MsqidDS struct {
	Perm                Perm
	Stime, Rtime, Ctime int64
	Cbytes, Qnum        uint64
	Qbytes              uint64
	LSPID, LRPID        int32
}

// MsqidDSSize is sizeof(struct msqid64_ds) on amd64.
const MsqidDSSize = 120

// Encode returns the app's layout.
func (d *MsqidDS) Encode() []byte {
	b := make([]byte, MsqidDSSize)
	le := binary.LittleEndian
	d.Perm.encode(b)
	le.PutUint64(b[48:], uint64(d.Stime))
	le.PutUint64(b[56:], uint64(d.Rtime))
	le.PutUint64(b[64:], uint64(d.Ctime))
	le.PutUint64(b[72:], d.Cbytes)
	le.PutUint64(b[80:], d.Qnum)
	le.PutUint64(b[88:], d.Qbytes)
	le.PutUint32(b[96:], uint32(d.LSPID))
	le.PutUint32(b[100:], uint32(d.LRPID))
	return b
}

// DecodeMsqidDS reads the fields IPC_SET uses.
func DecodeMsqidDS(b []byte) MsqidDS {
	var d MsqidDS
	d.Perm.decode(b)
	d.Qbytes = binary.LittleEndian.Uint64(b[88:])
	return d
}

// MsgCtl implements msgctl(2) commands on a queue: IPC_STAT, MSG_STAT,
// MSG_STAT_ANY, IPC_SET (msg_qbytes above msgmnb needs CAP_SYS_RESOURCE)
// and IPC_RMID (freeque(): waiters fail with EIDRM).
func (ns *Namespace) MsgCtl(ctx Context, id int32, cmd int32, set *MsqidDS) (int32, MsqidDS, error) {
	c := ctx.Credentials()
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var q *Queue
	var err error
	if cmd == MsgStat || cmd == MsgStatAny {
		q, err = ns.msgs.byIndex(int(id))
	} else {
		q, err = ns.msgs.find(id)
	}
	if err != nil {
		return 0, MsqidDS{}, err
	}
	switch cmd {
	case IPCStat, MsgStat, MsgStatAny:
		if cmd != MsgStatAny && !q.perm.check(c, mayRead) {
			return 0, MsqidDS{}, unix.EACCES
		}
		ret := int32(0)
		if cmd != IPCStat {
			ret = q.perm.id
		}
		return ret, MsqidDS{Perm: q.perm.export(), Stime: q.stime, Rtime: q.rtime, Ctime: q.perm.ctime,
			Cbytes: uint64(q.cbytes), Qnum: uint64(len(q.msgs)), Qbytes: uint64(q.qbytes), LSPID: q.lspid, LRPID: q.lrpid}, nil
	case IPCSet:
		if !q.perm.mayControl(c) {
			return 0, MsqidDS{}, unix.EPERM
		}
		if set.Qbytes > msgMNB && !c.HasCapability(capSysResource) {
			return 0, MsqidDS{}, unix.EPERM
		}
		q.qbytes = int(min(set.Qbytes, math.MaxInt32))
		q.perm.set(&set.Perm)
		// Receivers may have lost permission; senders may fit now.
		q.expungeLocked(unix.EAGAIN)
		q.senders.Notify(waiter.WritableEvents)
		return 0, MsqidDS{}, nil
	case IPCRmid:
		if !q.perm.mayControl(c) {
			return 0, MsqidDS{}, unix.EPERM
		}
		q.expungeLocked(unix.EIDRM)
		ns.msgs.remove(q)
		for _, m := range q.msgs {
			ns.msgBytes -= len(m.Text)
			ns.msgHdrs--
		}
		q.msgs = nil
		q.senders.Notify(waiter.WritableEvents)
		return 0, MsqidDS{}, nil
	}
	return 0, MsqidDS{}, unix.EINVAL
}

// MsgInfoSize is sizeof(struct msginfo).
const MsgInfoSize = 32

// MsgInfo implements msgctl(2) IPC_INFO and MSG_INFO (msgctl_info()).
func (ns *Namespace) MsgInfo(cmd int32) ([]byte, int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	pool, mp, tql := msgPool, msgMap, msgTQL
	if cmd == MsgInfo {
		pool, mp, tql = len(ns.msgs.byIdx), ns.msgHdrs, ns.msgBytes
	}
	b := make([]byte, MsgInfoSize)
	le := binary.LittleEndian
	for i, v := range []int{pool, mp, msgMax, msgMNB, msgMNI, msgSSZ, tql} {
		le.PutUint32(b[4*i:], uint32(v))
	}
	le.PutUint16(b[28:], msgSeg)
	return b, int32(ns.msgs.maxIdx())
}
