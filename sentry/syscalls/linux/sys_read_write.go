package linux

import (
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
	"pangolin/sentry/socket"
)

// checkUserRange is access_ok(): the range must lie in the user half
// (EFAULT), before any data moves.
func checkUserRange(addr uintptr, n uint64) error {
	if n == 0 {
		return nil
	}
	end := uint64(addr) + n
	if end < uint64(addr) || end > taskSize {
		return unix.EFAULT
	}
	return nil
}

// ioBufs recycles the ioChunk-sized buffers that move file data: a fresh
// 1 MiB allocation per read or write costs a zeroing, and with a small
// heap the collector returns the memory to the host between calls, so the
// next call page-faults it back in. File implementations never keep the
// buffer they are given (the copy_to_user/copy_from_user contract).
var ioBufs = sync.Pool{New: func() any { b := make([]byte, ioChunk); return &b }}

// ioBuffer returns a buffer of min(n, ioChunk) bytes and the function that
// gives it back; small requests get their own.
func ioBuffer(n uint64) ([]byte, func()) {
	if n < 64<<10 {
		return make([]byte, n), func() {}
	}
	bp := ioBufs.Get().(*[]byte)
	return (*bp)[:min(n, ioChunk)], func() { ioBufs.Put(bp) }
}

// readFn reads into a sentry buffer; writeFn writes from one.
type (
	readFn  func(dst []byte) (int, error)
	writeFn func(src []byte) (int, error)
)

// readToUser moves up to n bytes from rd to app memory at addr through a
// bounded buffer. It stops at the first short read; an error after some
// bytes were transferred is dropped in favour of the count, as Linux does.
func readToUser(t *kernel.Task, addr uintptr, n uint64, rd readFn) (uint64, error) {
	buf, put := ioBuffer(n)
	defer put()
	var done uint64
	for done < n {
		c := min(n-done, uint64(len(buf)))
		// Check the destination before consuming data: a stream (a
		// pipe, a terminal) cannot give bytes back if the copy-out
		// then faults, whereas Linux copies straight into app memory.
		// (A mapped but read-only destination still loses the data.)
		if err := checkMapped(t, addr+uintptr(done), c); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		got, err := rd(buf[:c])
		if got > 0 {
			if cerr := t.CopyOutBytes(addr+uintptr(done), buf[:got]); cerr != nil {
				if done > 0 {
					return done, nil
				}
				return 0, cerr
			}
			done += uint64(got)
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if uint64(got) < c {
			break
		}
	}
	return done, nil
}

// checkMapped returns EFAULT unless every page of [addr, addr+n) is mapped.
func checkMapped(t *kernel.Task, addr uintptr, n uint64) error {
	start := addr &^ 4095
	if t.MemoryManager().CheckMapped(start, uintptr(uint64(addr-start)+n)) != nil {
		return unix.EFAULT
	}
	return nil
}

// writeFromUser moves up to n bytes from app memory at addr to wr.
func writeFromUser(t *kernel.Task, addr uintptr, n uint64, wr writeFn) (uint64, error) {
	buf, put := ioBuffer(n)
	defer put()
	var done uint64
	for done < n {
		c := min(n-done, uint64(len(buf)))
		if err := t.CopyInBytes(addr+uintptr(done), buf[:c]); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		got, err := wr(buf[:c])
		done += uint64(max(got, 0))
		if err != nil {
			if done > 0 {
				// A pipe whose last reader left during the write
				// returns the bytes written with EPIPE: the count
				// goes to the app, and SIGPIPE too (pipe_write()).
				sigpipeOnEPIPE(t, err)
				return done, nil
			}
			return 0, err
		}
		if uint64(got) < c {
			break
		}
	}
	return done, nil
}

// sigpipeOnEPIPE sends SIGPIPE to the writing thread, as pipe_write() and
// the socket layer do when the reading side is gone. They use send_sig()
// with no siginfo, which the app sees as SI_USER from itself.
func sigpipeOnEPIPE(t *kernel.Task, err error) {
	if err == unix.EPIPE {
		t.SendThreadSignal(kernel.SigInfo{Signo: int(unix.SIGPIPE), Code: kernel.SIUser, PID: t.ThreadGroup().PID(), UID: t.Credentials().RealUID})
	}
}

// rwCount clamps a size_t count to MAX_RW_COUNT.
func rwCount(n uint) uint64 { return min(uint64(n), maxRWCount) }

// Read implements Linux syscall read(2).
func Read(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	addr, n := args[1].Pointer(), uint64(args[2].SizeT())
	if !f.Readable() {
		return 0, unix.EBADF
	}
	if err := checkUserRange(addr, n); err != nil {
		return 0, err
	}
	if s, err := socket.FromFile(f); err == nil {
		return sockRead(t, f, s, socket.UserIO(t, []socket.Segment{{Base: addr, Len: int(min(n, maxRWCount))}}))
	}
	done, err := readToUser(t, addr, min(n, maxRWCount), func(dst []byte) (int, error) { return f.Read(t, dst) })
	return uintptr(done), err
}

// Write implements Linux syscall write(2).
func Write(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	addr, n := args[1].Pointer(), uint64(args[2].SizeT())
	if !f.Writable() {
		return 0, unix.EBADF
	}
	if err := checkUserRange(addr, n); err != nil {
		return 0, err
	}
	if s, err := socket.FromFile(f); err == nil {
		return sockWrite(t, f, s, socket.UserIO(t, []socket.Segment{{Base: addr, Len: int(min(n, maxRWCount))}}))
	}
	done, err := writeFromUser(t, addr, min(n, maxRWCount), func(src []byte) (int, error) { return f.Write(t, src) })
	sigpipeOnEPIPE(t, err)
	return uintptr(done), err
}

// Pread64 implements Linux syscall pread64(2).
func Pread64(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	addr, n, off := args[1].Pointer(), uint64(args[2].SizeT()), args[3].Int64()
	if off < 0 {
		return 0, unix.EINVAL
	}
	if !f.Readable() {
		return 0, unix.EBADF
	}
	if err := checkUserRange(addr, n); err != nil {
		return 0, err
	}
	done, err := readToUser(t, addr, min(n, maxRWCount), func(dst []byte) (int, error) {
		n, err := f.PReadCtx(t, dst, off)
		off += int64(max(n, 0))
		return n, err
	})
	return uintptr(done), err
}

// Pwrite64 implements Linux syscall pwrite64(2).
func Pwrite64(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	addr, n, off := args[1].Pointer(), uint64(args[2].SizeT()), args[3].Int64()
	if off < 0 {
		return 0, unix.EINVAL
	}
	if !f.Writable() {
		return 0, unix.EBADF
	}
	if err := checkUserRange(addr, n); err != nil {
		return 0, err
	}
	done, err := writeFromUser(t, addr, min(n, maxRWCount), func(src []byte) (int, error) {
		n, err := f.PWrite(t, src, off)
		off += int64(max(n, 0))
		return n, err
	})
	sigpipeOnEPIPE(t, err)
	return uintptr(done), err
}

// vectorIO runs one transfer per iovec, stopping at the first short one
// (do_loop_readv_writev()).
func vectorIO(t *kernel.Task, iovs []kernel.Iovec, one func(addr uintptr, n uint64) (uint64, error)) (uintptr, error) {
	var total uint64
	for _, iov := range iovs {
		if iov.Len == 0 {
			continue
		}
		if err := checkUserRange(iov.Base, iov.Len); err != nil {
			if total > 0 {
				break
			}
			return 0, err
		}
		n, err := one(iov.Base, iov.Len)
		total += n
		if err != nil {
			if total > 0 {
				break
			}
			return 0, err
		}
		if n < iov.Len {
			break
		}
	}
	return uintptr(total), nil
}

// iovTotal returns the bytes iovs name and whether they fit one sentry
// buffer (ioChunk). Such readv/writev calls are one read or write of the
// file, as Linux passes the whole array to one ->read_iter/->write_iter:
// a packet-mode pipe then sees one packet, a pipe write of at most
// PIPE_BUF bytes in all stays atomic, and O_APPEND appends them at once.
// Larger ones go iovec by iovec in chunks (vectorIO).
func iovTotal(iovs []kernel.Iovec) (uint64, bool) {
	var total uint64
	for _, iov := range iovs {
		total += iov.Len
		if iov.Len > ioChunk || total > ioChunk {
			return 0, false
		}
	}
	return total, true
}

// checkIovecs is import_iovec()'s access_ok() on every iovec before any
// data moves: one outside the user half (even an empty one) fails the
// whole call with EFAULT.
func checkIovecs(iovs []kernel.Iovec) error {
	for _, iov := range iovs {
		if iov.Base > taskSize {
			return unix.EFAULT
		}
		if err := checkUserRange(iov.Base, iov.Len); err != nil {
			return err
		}
	}
	return nil
}

// scatterRead reads once into a buffer as large as the leading iovecs
// whose memory is mapped (a stream cannot take bytes back, so the
// destination is checked first, as readToUser does), then copies the
// bytes out iovec by iovec. EFAULT if the first iovec with bytes is
// unmapped. (Linux fails a pipe read with EFAULT, leaving the data
// queued, when a later iovec faults; here the mapped prefix is read.)
func scatterRead(t *kernel.Task, iovs []kernel.Iovec, total uint64, rd readFn) (uintptr, error) {
	var usable uint64
	for _, iov := range iovs {
		if iov.Len == 0 {
			continue
		}
		if checkMapped(t, iov.Base, iov.Len) != nil {
			if usable == 0 {
				return 0, unix.EFAULT
			}
			break
		}
		usable += iov.Len
	}
	if usable == 0 {
		return 0, nil
	}
	buf, put := ioBuffer(usable)
	defer put()
	n, err := rd(buf)
	if n <= 0 {
		return 0, err
	}
	done := 0
	for _, iov := range iovs {
		if done == n {
			break
		}
		c := min(int(iov.Len), n-done)
		if cerr := t.CopyOutBytes(iov.Base, buf[done:done+c]); cerr != nil {
			// Mapped a moment ago; the data read so far is lost
			// beyond what was copied.
			if done == 0 {
				return 0, cerr
			}
			break
		}
		done += c
	}
	return uintptr(done), nil
}

// gatherWrite copies the iovecs into one buffer, up to the first one that
// is unreadable (EFAULT if that is the first with bytes), and writes it
// once, as a regular file's write stops at a fault. Bytes written with an error are reported
// as a count, with SIGPIPE for EPIPE (see writeFromUser).
func gatherWrite(t *kernel.Task, iovs []kernel.Iovec, total uint64, wr writeFn) (uintptr, error) {
	buf, put := ioBuffer(total)
	defer put()
	buf = buf[:0]
	for _, iov := range iovs {
		if iov.Len == 0 {
			continue
		}
		at := len(buf)
		buf = buf[:at+int(iov.Len)]
		if t.CopyInBytes(iov.Base, buf[at:]) != nil {
			buf = buf[:at]
			if at == 0 {
				return 0, unix.EFAULT
			}
			break
		}
	}
	if len(buf) == 0 {
		return 0, nil
	}
	n, err := wr(buf)
	if err != nil && n > 0 {
		sigpipeOnEPIPE(t, err)
		return uintptr(n), nil
	}
	if err != nil {
		return 0, err
	}
	return uintptr(n), nil
}

// readv is readv(2) and preadv(2); off < 0 means the file position.
func readv(t *kernel.Task, fd int32, iovAddr uintptr, iovcnt int, off int64, positional bool) (uintptr, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !f.Readable() {
		return 0, unix.EBADF
	}
	if positional && off < 0 {
		return 0, unix.EINVAL
	}
	if s, err := socket.FromFile(f); err == nil && !positional {
		// A socket receives into the whole vector at once.
		dst, err := userIovecs(t, iovAddr, iovcnt)
		if err != nil {
			return 0, err
		}
		return sockRead(t, f, s, dst)
	}
	iovs, err := t.CopyInIovecs(iovAddr, iovcnt)
	if err != nil {
		return 0, err
	}
	if total, ok := iovTotal(iovs); ok {
		if err := checkIovecs(iovs); err != nil {
			return 0, err
		}
		return scatterRead(t, iovs, total, func(dst []byte) (int, error) {
			if !positional {
				return f.Read(t, dst)
			}
			return f.PReadCtx(t, dst, off)
		})
	}
	return vectorIO(t, iovs, func(addr uintptr, n uint64) (uint64, error) {
		return readToUser(t, addr, n, func(dst []byte) (int, error) {
			if !positional {
				return f.Read(t, dst)
			}
			n, err := f.PReadCtx(t, dst, off)
			off += int64(max(n, 0))
			return n, err
		})
	})
}

// writev is writev(2) and pwritev(2).
func writev(t *kernel.Task, fd int32, iovAddr uintptr, iovcnt int, off int64, positional bool) (uintptr, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !f.Writable() {
		return 0, unix.EBADF
	}
	if positional && off < 0 {
		return 0, unix.EINVAL
	}
	if s, err := socket.FromFile(f); err == nil && !positional {
		// A socket sends the whole vector at once (one datagram).
		src, err := userIovecs(t, iovAddr, iovcnt)
		if err != nil {
			return 0, err
		}
		return sockWrite(t, f, s, src)
	}
	iovs, err := t.CopyInIovecs(iovAddr, iovcnt)
	if err != nil {
		return 0, err
	}
	if total, ok := iovTotal(iovs); ok {
		if err := checkIovecs(iovs); err != nil {
			return 0, err
		}
		n, err := gatherWrite(t, iovs, total, func(src []byte) (int, error) {
			if !positional {
				return f.Write(t, src)
			}
			return f.PWrite(t, src, off)
		})
		sigpipeOnEPIPE(t, err)
		return n, err
	}
	n, err := vectorIO(t, iovs, func(addr uintptr, n uint64) (uint64, error) {
		return writeFromUser(t, addr, n, func(src []byte) (int, error) {
			if !positional {
				return f.Write(t, src)
			}
			n, err := f.PWrite(t, src, off)
			off += int64(max(n, 0))
			return n, err
		})
	})
	sigpipeOnEPIPE(t, err)
	return n, err
}

// Readv implements Linux syscall readv(2).
func Readv(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return readv(t, args[0].Int(), args[1].Pointer(), int(args[2].Int()), 0, false)
}

// Writev implements Linux syscall writev(2).
func Writev(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return writev(t, args[0].Int(), args[1].Pointer(), int(args[2].Int()), 0, false)
}

// Preadv implements Linux syscall preadv(2). On 64-bit the offset is the
// whole pos_l argument (pos_from_hilo() shifts pos_h out).
func Preadv(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return readv(t, args[0].Int(), args[1].Pointer(), int(args[2].Int()), args[3].Int64(), true)
}

// Pwritev implements Linux syscall pwritev(2).
func Pwritev(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return writev(t, args[0].Int(), args[1].Pointer(), int(args[2].Int()), args[3].Int64(), true)
}

// seekMax is SEEK_MAX (SEEK_HOLE).
const seekMax = unix.SEEK_HOLE

// Lseek implements Linux syscall lseek(2).
func Lseek(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	whence := args[2].Uint()
	if whence > seekMax {
		return 0, unix.EINVAL
	}
	n, err := f.Seek(t, args[1].Int64(), int(whence))
	if err != nil {
		return 0, err
	}
	return uintptr(n), nil
}

// Sendfile implements Linux syscall sendfile(2) by copying through a
// sentry buffer (no splice).
func Sendfile(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	out, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer out.DecRef()
	in, err := getFile(t, args[1].Int())
	if err != nil {
		return 0, err
	}
	defer in.DecRef()
	offAddr, count := args[2].Pointer(), uint64(args[3].SizeT())
	if !in.Readable() || !out.Writable() {
		return 0, unix.EBADF
	}
	if out.StatusFlags()&unix.O_APPEND != 0 {
		return 0, unix.EINVAL
	}
	var off int64
	if offAddr != 0 {
		b := make([]byte, 8)
		if err := t.CopyInBytes(offAddr, b); err != nil {
			return 0, err
		}
		off = int64(le.Uint64(b))
		if off < 0 {
			return 0, unix.EINVAL
		}
	}
	count = min(count, maxRWCount)
	buf, put := ioBuffer(count)
	defer put()
	var done uint64
	var rerr error
	for done < count {
		c := min(count-done, uint64(len(buf)))
		var n int
		if offAddr != 0 {
			n, rerr = in.PReadCtx(t, buf[:c], off)
		} else {
			n, rerr = in.Read(t, buf[:c])
		}
		if n <= 0 {
			break
		}
		w, werr := out.Write(t, buf[:n])
		if w > 0 {
			done += uint64(w)
			off += int64(w)
		}
		if werr != nil {
			sigpipeOnEPIPE(t, werr)
			rerr = werr
			break
		}
		if w < n {
			// The output took less than was read: give back the rest
			// to a seekable input so no data is lost.
			if offAddr == 0 && !in.Positionless() {
				_, _ = in.Seek(t, int64(w-n), unix.SEEK_CUR)
			}
			break
		}
		if uint64(n) < c {
			break
		}
	}
	if offAddr != 0 {
		b := make([]byte, 8)
		le.PutUint64(b, uint64(off))
		if err := t.CopyOutBytes(offAddr, b); err != nil {
			return 0, err
		}
	}
	if done == 0 && rerr != nil {
		return 0, rerr
	}
	return uintptr(done), nil
}
