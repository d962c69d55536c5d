package unix

import (
	"pangolin/fs/vfs"
	"pangolin/sentry/socket"
)

// message is one queued unit (an skb on sk_receive_queue): a datagram,
// a piece of a stream, or, on a listener, a pending connection.
type message struct {
	data []byte
	// consumed is how much of a stream message was read already.
	consumed int
	// from is the sending endpoint (skb->sk): the source address is its
	// name when the message is received, and truesize is charged to its
	// write allocation until the message is freed.
	from     *endpoint
	truesize int64
	// creds are the credentials the message carries; nil if none.
	creds *socket.Credentials
	// rights are in-flight files (SCM_RIGHTS), one reference each.
	rights []*vfs.FileDescription
	// conn is, on a listener's queue, the embryo of a pending
	// connection.
	conn *endpoint
}

// unread returns the bytes of a stream message not yet read.
func (m *message) unread() int { return len(m.data) - m.consumed }

// free releases what a message holds once it leaves a queue without being
// received: its files, its charge to the sender and, for a pending
// connection, the embryo (unix_release_sock(embryo, 1)).
//
// Preconditions: no endpoint lock is held.
func (m *message) free() {
	detachRights(m.rights)
	for _, f := range m.rights {
		f.DecRef()
	}
	m.rights = nil
	m.uncharge()
	if m.conn != nil {
		m.conn.release(true)
		m.conn = nil
	}
}

// uncharge returns the message's truesize to the sender, waking its
// writers if that made it writable (sock_wfree(), unix_write_space()).
//
// Preconditions: no endpoint lock is held.
func (m *message) uncharge() {
	if m.from == nil || m.truesize == 0 {
		return
	}
	m.from.wmem.Add(-m.truesize)
	m.truesize = 0
	m.from.writeSpace()
}

// msgQueue is a FIFO of messages.
type msgQueue struct {
	msgs []*message
	head int
}

func (q *msgQueue) len() int { return len(q.msgs) - q.head }

// at returns the i'th queued message.
func (q *msgQueue) at(i int) *message { return q.msgs[q.head+i] }

// front returns the first message or nil.
func (q *msgQueue) front() *message {
	if q.len() == 0 {
		return nil
	}
	return q.msgs[q.head]
}

func (q *msgQueue) push(m *message) { q.msgs = append(q.msgs, m) }

// pop removes and returns the first message, or nil.
func (q *msgQueue) pop() *message {
	if q.len() == 0 {
		return nil
	}
	m := q.msgs[q.head]
	q.msgs[q.head] = nil
	q.head++
	if q.head == len(q.msgs) {
		q.msgs, q.head = q.msgs[:0], 0
	} else if q.head > 64 && q.head > len(q.msgs)/2 {
		n := copy(q.msgs, q.msgs[q.head:])
		clear(q.msgs[n:])
		q.msgs, q.head = q.msgs[:n], 0
	}
	return m
}

// drain empties the queue and returns what it held.
func (q *msgQueue) drain() []*message {
	out := append([]*message(nil), q.msgs[q.head:]...)
	q.msgs, q.head = nil, 0
	return out
}

// Socket buffer accounting, after Linux's: a message costs its sk_buff,
// its kmalloc'ed linear part (with struct skb_shared_info) and its page
// fragments (__alloc_skb(), SKB_TRUESIZE(), alloc_skb_with_frags()).
// Matching these costs keeps how much a socket accepts before blocking,
// and what SIOCOUTQ reports, the same as on Linux.
const (
	pageSize       = 4096
	skbStructSize  = 256                        // SKB_DATA_ALIGN(sizeof(struct sk_buff))
	skbSharedInfo  = 320                        // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
	skbMaxHead     = pageSize - skbSharedInfo   // SKB_MAX_HEAD(0)
	skbMaxAlloc    = 4*pageSize - skbSharedInfo // SKB_MAX_ALLOC
	unixSkbFrags   = 32768                      // UNIX_SKB_FRAGS_SZ
	maxSkbFrags    = 17                         // MAX_SKB_FRAGS
	streamMaxChunk = skbMaxHead + unixSkbFrags  // largest stream skb
	dgramOverhead  = 32                         // sk_sndbuf - 32 is the largest datagram
	kmallocMaxSize = 8192                       // larger linear parts come from pages
)

// kmallocSize is the size kmalloc really allocates for n bytes.
func kmallocSize(n int) int {
	for _, c := range [...]int{8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, kmallocMaxSize} {
		if n <= c {
			return c
		}
	}
	c := 2 * kmallocMaxSize
	for c < n {
		c *= 2
	}
	return c
}

func pageAlign(n int) int { return (n + pageSize - 1) &^ (pageSize - 1) }

// truesize is the cost of an skb with head bytes of linear data and
// dataLen bytes of page fragments.
func truesize(head, dataLen int) int64 {
	return int64(skbStructSize + kmallocSize((head+63)&^63+skbSharedInfo) + dataLen)
}

// streamChunk returns how much of a remaining stream write of n bytes the
// next skb carries and what it costs (unix_stream_sendmsg()).
func streamChunk(n, sndbuf int) (int, int64) {
	size := min(n, sndbuf/2-64, streamMaxChunk)
	dataLen := min(size, pageAlign(max(0, size-skbMaxHead)))
	return size, truesize(size-dataLen, dataLen)
}

// dgramCost returns the cost of a datagram of n bytes
// (unix_dgram_sendmsg()).
func dgramCost(n int) int64 {
	dataLen := 0
	if n > skbMaxAlloc {
		dataLen = pageAlign(min(n-skbMaxAlloc, maxSkbFrags*pageSize))
	}
	return truesize(n-dataLen, dataLen)
}
