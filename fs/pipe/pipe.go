// Package pipe implements pipes and FIFOs with the semantics of Linux's
// fs/pipe.c: a ring of page-sized buffers (16 by default, resizable with
// F_SETPIPE_SZ), atomic writes of at most PIPE_BUF bytes, packet mode
// (O_DIRECT), EOF once every writer is gone, EPIPE once every reader is
// gone, and readiness for poll, select and epoll through waiter.Waitable.
//
// Anonymous pipes (pipe(2)) get an inode on this package's pipefs; FIFOs
// are filesystem nodes on any filesystem, and opening one binds the file
// to the single Pipe of its inode (Install sets vfs.VirtualFilesystem's
// OpenFIFO hook).
//
// Lock order: FS.mu (the FIFO registry) and Pipe.mu are never held
// together; Pipe.queue's lock is taken by Notify only after Pipe.mu is
// released, so waiters' callbacks may call Readiness.
package pipe

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
)

// Sizes (include/linux/pipe_fs_i.h, include/uapi/linux/limits.h).
const (
	// PageSize is the size of one pipe buffer.
	PageSize = 4096
	// PipeBuf is PIPE_BUF: writes of at most this many bytes are atomic.
	PipeBuf = 4096
	// DefaultSlots is PIPE_DEF_BUFFERS: a new pipe holds 64 KiB.
	DefaultSlots = 16
	// MaxSize is the default /proc/sys/fs/pipe-max-size: the largest
	// capacity F_SETPIPE_SZ grants without CAP_SYS_RESOURCE.
	MaxSize = 1 << 20
)

// buffer is one slot of the ring (struct pipe_buffer): data[off:off+n] is
// unread.
type buffer struct {
	data *[PageSize]byte // from pagePool
	off  int
	n    int
	// packet marks a buffer written in packet mode (PIPE_BUF_FLAG_PACKET):
	// a read consumes it whole. Other buffers may take more bytes
	// (PIPE_BUF_FLAG_CAN_MERGE).
	packet bool
}

// pagePool recycles buffer pages.
var pagePool = sync.Pool{New: func() any { return new([PageSize]byte) }}

// Pipe is the state shared by a pipe's (or a FIFO's) open files: struct
// pipe_inode_info.
type Pipe struct {
	// queue is notified of every readiness change of either end (Linux's
	// rd_wait and wr_wait in one queue: waiters filter by mask).
	// EventInternal is used to wake FIFO openers waiting for a partner.
	queue waiter.Queue

	mu sync.Mutex
	// bufs[head:] are the occupied slots, oldest first. Protected by mu.
	bufs []buffer
	head int
	// maxUsage is the capacity in slots (pipe->max_usage). Protected by
	// mu.
	maxUsage int
	// readers and writers count the open files that can read and write.
	// Protected by mu.
	readers, writers int
	// rCounter and wCounter count opens for reading and writing ever
	// made (pipe->r_counter, w_counter); FIFO openers wait for the other
	// one to change. Protected by mu.
	rCounter, wCounter uint64
	// atime, mtime and ctime are an anonymous pipe's inode times: reads
	// set atime, writes mtime and ctime (file_accessed(),
	// file_update_time()). Protected by mu.
	atime, mtime, ctime vfs.Timespec

	// files counts the open (or opening) files of a FIFO's pipe
	// (pipe->files); the pipe is dropped from its FS when it reaches
	// zero. Protected by FS.mu.
	files int
}

// newPipe returns an empty pipe with the default capacity; both counters
// start at 1, as alloc_pipe_info() sets them.
func newPipe() *Pipe {
	now := vfs.Now()
	return &Pipe{maxUsage: DefaultSlots, rCounter: 1, wCounter: 1, atime: now, mtime: now, ctime: now}
}

// occupancyLocked is the number of used slots (pipe_occupancy()).
//
// Preconditions: p.mu is held.
func (p *Pipe) occupancyLocked() int { return len(p.bufs) - p.head }

// fullLocked reports whether no slot is free (pipe_full()).
//
// Preconditions: p.mu is held.
func (p *Pipe) fullLocked() bool { return p.occupancyLocked() >= p.maxUsage }

// queuedLocked is the number of unread bytes (FIONREAD).
//
// Preconditions: p.mu is held.
func (p *Pipe) queuedLocked() int {
	n := 0
	for _, b := range p.bufs[p.head:] {
		n += b.n
	}
	return n
}

// popLocked releases the oldest slot.
//
// Preconditions: p.mu is held; the pipe is not empty.
func (p *Pipe) popLocked() {
	b := &p.bufs[p.head]
	pagePool.Put(b.data)
	*b = buffer{}
	p.head++
	if p.head == len(p.bufs) {
		p.bufs, p.head = p.bufs[:0], 0
	} else if p.head >= 32 && p.head*2 >= len(p.bufs) {
		n := copy(p.bufs, p.bufs[p.head:])
		clear(p.bufs[n:])
		p.bufs, p.head = p.bufs[:n], 0
	}
}

// read moves queued bytes into dst, as one attempt of pipe_read(): it
// returns what is there (at most one packet from a packet buffer), 0 at
// EOF (empty and no writer), or EAGAIN if the pipe is empty but has a
// writer. It wakes writers if a slot of a full pipe was freed (only then:
// an edge-triggered epoll waiter sees what Linux shows it).
func (p *Pipe) read(dst []byte) (int, error) {
	p.mu.Lock()
	if p.occupancyLocked() == 0 {
		w := p.writers
		p.mu.Unlock()
		if w == 0 {
			return 0, nil
		}
		return 0, unix.EAGAIN
	}
	wasFull, before := p.fullLocked(), p.occupancyLocked()
	done := 0
	for done < len(dst) && p.occupancyLocked() > 0 {
		b := &p.bufs[p.head]
		c := copy(dst[done:], b.data[b.off:b.off+b.n])
		done += c
		b.off += c
		b.n -= c
		packet := b.packet
		if packet {
			// The rest of a packet is discarded.
			b.n = 0
		}
		if b.n == 0 {
			p.popLocked()
		}
		if packet {
			break
		}
	}
	p.atime = vfs.Now()
	freed := wasFull && p.occupancyLocked() < before
	p.mu.Unlock()
	if freed {
		p.queue.Notify(waiter.WritableEvents)
	}
	return done, nil
}

// write stores as much of src as fits, as one attempt of pipe_write():
// EPIPE without a reader; if merge, first the tail fragment of src
// (len(src) mod PageSize bytes) goes into the last buffer if it fits
// there, which keeps large writes page-aligned; then whole slots are
// filled while any is free. A write of at most PipeBuf bytes thus goes
// in whole or not at all. It returns EAGAIN if nothing fit and wakes
// readers if something did.
func (p *Pipe) write(src []byte, packet, merge bool) (int, error) {
	p.mu.Lock()
	if p.readers == 0 {
		p.mu.Unlock()
		return 0, unix.EPIPE
	}
	done := 0
	if chars := len(src) & (PageSize - 1); merge && chars != 0 && p.occupancyLocked() > 0 {
		b := &p.bufs[len(p.bufs)-1]
		if !b.packet && b.off+b.n+chars <= PageSize {
			copy(b.data[b.off+b.n:], src[:chars])
			b.n += chars
			done = chars
		}
	}
	for done < len(src) && !p.fullLocked() {
		page := pagePool.Get().(*[PageSize]byte)
		c := copy(page[:], src[done:])
		p.bufs = append(p.bufs, buffer{data: page, n: c, packet: packet})
		done += c
	}
	if done > 0 {
		p.mtime = vfs.Now()
		p.ctime = p.mtime
	}
	p.mu.Unlock()
	if done == 0 {
		return 0, unix.EAGAIN
	}
	p.queue.Notify(waiter.ReadableEvents)
	return done, nil
}

// Read blocks until it can read (the blocking part of pipe_read()):
// signals end the wait with ERESTARTSYS.
func (p *Pipe) Read(ctx vfs.Context, dst []byte, nonblock bool) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	return vfs.BlockOn(ctx, p, waiter.ReadableEvents|waiter.EventHUp, nonblock, time.Time{}, func() (int, error) {
		return p.read(dst)
	})
}

// Write writes all of src, waiting for room as needed, or as much as
// fits at once if nonblock (pipe_write()). A wait ended by a signal or
// the last reader leaving after some bytes went in returns their count;
// with EPIPE as well in the latter case, since Linux raises SIGPIPE then
// too.
func (p *Pipe) Write(ctx vfs.Context, src []byte, nonblock, packet bool) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	done := 0
	merge := true
	for {
		n, err := vfs.BlockOn(ctx, p, waiter.WritableEvents|waiter.EventErr, nonblock, time.Time{}, func() (int, error) {
			n, err := p.write(src[done:], packet, merge)
			merge = false
			return n, err
		})
		done += n
		switch {
		case err == unix.EPIPE:
			return done, err
		case err != nil && done > 0:
			return done, nil
		case err != nil:
			return 0, err
		case done == len(src) || nonblock:
			return done, nil
		}
	}
}

// EventRegister implements waiter.Waitable.
func (p *Pipe) EventRegister(e *waiter.Entry) error {
	p.queue.EventRegister(e)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (p *Pipe) EventUnregister(e *waiter.Entry) { p.queue.EventUnregister(e) }

// Readiness implements waiter.Waitable for a file that can both read
// and write; ends use endReadiness.
func (p *Pipe) Readiness(mask waiter.EventMask) waiter.EventMask {
	return p.endReadiness(true, true, 0, mask)
}

// endReadiness is pipe_poll() for a file with the given access and f_pipe
// (f_version) value: readable if data is queued, hung up if no writer is
// left (unless the file has seen no writer yet: version == wCounter),
// writable if a slot is free, in error if no reader is left.
func (p *Pipe) endReadiness(readable, writable bool, version uint64, mask waiter.EventMask) waiter.EventMask {
	var r waiter.EventMask
	p.mu.Lock()
	if readable {
		if p.occupancyLocked() > 0 {
			r |= waiter.ReadableEvents
		}
		if p.writers == 0 && version != p.wCounter {
			r |= waiter.EventHUp
		}
	}
	if writable {
		if !p.fullLocked() {
			r |= waiter.WritableEvents
		}
		if p.readers == 0 {
			r |= waiter.EventErr
		}
	}
	p.mu.Unlock()
	return r & (mask | waiter.EventErr | waiter.EventHUp)
}

// Queued returns the number of unread bytes (FIONREAD).
func (p *Pipe) Queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queuedLocked()
}

// Size returns the capacity in bytes (F_GETPIPE_SZ).
func (p *Pipe) Size() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(p.maxUsage) * PageSize
}

// roundSize is round_pipe_size(): at least one page, a power of two, and
// 0 (invalid) above 2 GiB.
func roundSize(size uint32) uint64 {
	if size > 1<<31 {
		return 0
	}
	if size < PageSize {
		return PageSize
	}
	r := uint64(PageSize)
	for r < uint64(size) {
		r <<= 1
	}
	return r
}

// SetSize changes the capacity (F_SETPIPE_SZ, pipe_set_size()) to size
// rounded up to a power-of-two number of pages and returns it. Growing
// beyond MaxSize needs CAP_SYS_RESOURCE (EPERM); shrinking below the
// slots in use fails with EBUSY.
func (p *Pipe) SetSize(size uint32, capSysResource bool) (int64, error) {
	bytes := roundSize(size)
	slots := int(bytes / PageSize)
	if slots == 0 {
		return 0, unix.EINVAL
	}
	p.mu.Lock()
	if slots > p.maxUsage && bytes > MaxSize && !capSysResource {
		p.mu.Unlock()
		return 0, unix.EPERM
	}
	if slots < p.occupancyLocked() {
		p.mu.Unlock()
		return 0, unix.EBUSY
	}
	grew := slots > p.maxUsage
	p.maxUsage = slots
	p.mu.Unlock()
	if grew {
		p.queue.Notify(waiter.WritableEvents)
	}
	return int64(slots) * PageSize, nil
}

// open counts a new file of the pipe (the accounting part of
// fifo_open() and create_pipe_files()).
func (p *Pipe) open(readable, writable bool) {
	p.mu.Lock()
	if readable {
		p.readers++
	}
	if writable {
		p.writers++
	}
	p.mu.Unlock()
}

// release uncounts a closed file (pipe_release()). If that leaves one side
// without files while the other has some, everyone is woken: readers see
// EOF and EventHUp, writers EPIPE and EventErr.
func (p *Pipe) release(readable, writable bool) {
	p.mu.Lock()
	if readable {
		p.readers--
	}
	if writable {
		p.writers--
	}
	wake := (p.readers == 0) != (p.writers == 0)
	p.mu.Unlock()
	if wake {
		p.queue.Notify(waiter.AllEvents)
	}
}
