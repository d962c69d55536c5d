package linux

import (
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
	"pangolin/sentry/socket"
	"pangolin/sentry/socket/netlink"
	"pangolin/sentry/socket/netstack"
	unixsock "pangolin/sentry/socket/unix"
)

// The sockets layer (net/socket.c): these handlers copy and validate what
// the app passes and call the socket's family (sentry/socket). AF_UNIX and
// AF_NETLINK (NETLINK_ROUTE) are the sentry's own, AF_INET and AF_INET6
// are gVisor's netstack; other families fail with EAFNOSUPPORT.
func init() {
	socket.Register(unix.AF_UNIX, unixsock.Provider{})
	socket.Register(unix.AF_INET, netstack.Provider{Family: unix.AF_INET})
	socket.Register(unix.AF_INET6, netstack.Provider{Family: unix.AF_INET6})
	socket.Register(unix.AF_NETLINK, netlink.Provider{})
	socket.SetDeviceIoctl(netstack.DeviceIoctl)
	registerFamily(socketSyscalls)
}

const socketNote = "AF_UNIX, AF_INET, AF_INET6, AF_NETLINK (NETLINK_ROUTE); other families EAFNOSUPPORT"

var socketSyscalls = map[uintptr]kernel.Syscall{
	unix.SYS_SOCKET:      partial("socket", Socket, socketNote),
	unix.SYS_SOCKETPAIR:  partial("socketpair", Socketpair, socketNote),
	unix.SYS_BIND:        sup("bind", Bind),
	unix.SYS_LISTEN:      sup("listen", Listen),
	unix.SYS_ACCEPT:      sup("accept", Accept),
	unix.SYS_ACCEPT4:     sup("accept4", Accept4),
	unix.SYS_CONNECT:     sup("connect", Connect),
	unix.SYS_GETSOCKNAME: sup("getsockname", Getsockname),
	unix.SYS_GETPEERNAME: sup("getpeername", Getpeername),
	unix.SYS_SENDTO:      partial("sendto", Sendto, "no MSG_OOB"),
	unix.SYS_RECVFROM:    partial("recvfrom", Recvfrom, "no MSG_OOB"),
	unix.SYS_SENDMSG:     partial("sendmsg", Sendmsg, "SCM_RIGHTS, SCM_CREDENTIALS; no MSG_OOB"),
	unix.SYS_RECVMSG:     partial("recvmsg", Recvmsg, "SCM_RIGHTS, SCM_CREDENTIALS; no MSG_OOB"),
	unix.SYS_SENDMMSG:    partial("sendmmsg", Sendmmsg, "as sendmsg"),
	unix.SYS_RECVMMSG:    partial("recvmmsg", Recvmmsg, "as recvmsg"),
	unix.SYS_SHUTDOWN:    sup("shutdown", Shutdown),
	unix.SYS_SETSOCKOPT:  partial("setsockopt", Setsockopt, "SOL_SOCKET; no SO_PEEK_OFF, timestamps, filters, SO_BINDTODEVICE"),
	unix.SYS_GETSOCKOPT:  partial("getsockopt", Getsockopt, "as setsockopt"),
}

// sockaddrStorageLen is sizeof(struct sockaddr_storage): the longest
// address the kernel takes.
const sockaddrStorageLen = 128

// Flags of socket(2)'s type and of accept4(2).
const sockFlags = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC

// MSG_* values x/sys/unix lacks or that are internal.
const (
	msgCmsgCompat = 0x80000000
	msgBatch      = 0x40000
	// msgInternalSendmsgFlags are flags only the kernel may pass
	// (MSG_SPLICE_PAGES | MSG_SENDPAGE_NOPOLICY | MSG_SENDPAGE_DECRYPTED).
	msgInternalSendmsgFlags = 0x08000000 | 0x10000 | 0x100000
)

// getSocket returns the file and socket for fd: EBADF (O_PATH files
// included, as fdget() refuses them), ENOTSOCK for other files. The
// caller releases the file.
func getSocket(t *kernel.Task, fd int32) (*vfs.FileDescription, socket.Socket, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, nil, err
	}
	if f.IsPath() {
		f.DecRef()
		return nil, nil, unix.EBADF
	}
	s, err := socket.FromFile(f)
	if err != nil {
		f.DecRef()
		return nil, nil, err
	}
	return f, s, nil
}

// copyInAddr is move_addr_to_kernel(): EINVAL for a negative length or
// one beyond sockaddr_storage, EFAULT for a bad pointer.
func copyInAddr(t *kernel.Task, addr uintptr, n int32) ([]byte, error) {
	if n < 0 || n > sockaddrStorageLen {
		return nil, unix.EINVAL
	}
	b := make([]byte, n)
	if err := t.CopyInBytes(addr, b); err != nil {
		return nil, err
	}
	return b, nil
}

// copyOutAddr is move_addr_to_user() with the app's length already read
// (ulen): it copies at most ulen bytes of addr (EINVAL if ulen is
// negative) and stores the full length at lenAddr, as POSIX asks.
func copyOutAddr(t *kernel.Task, addr []byte, uaddr uintptr, ulen int32, lenAddr uintptr) error {
	n := ulen
	if int(n) > len(addr) {
		n = int32(len(addr))
	}
	if n < 0 {
		return unix.EINVAL
	}
	if err := t.CopyOutBytes(uaddr, addr[:n]); err != nil {
		return err
	}
	return t.CopyOutBytes(lenAddr, socket.Int(int32(len(addr))))
}

// copyOutAddrLen reads the length at lenAddr and calls copyOutAddr.
func copyOutAddrLen(t *kernel.Task, addr []byte, uaddr, lenAddr uintptr) error {
	b := make([]byte, 4)
	if err := t.CopyInBytes(lenAddr, b); err != nil {
		return err
	}
	return copyOutAddr(t, addr, uaddr, int32(le.Uint32(b)), lenAddr)
}

// freeFDs returns the lowest n descriptors free below the task's limit,
// or EMFILE: where get_unused_fd_flags() would put new files.
func freeFDs(t *kernel.Task, n int) ([]int32, error) {
	used := make(map[int32]bool)
	t.FDTable().ForEach(func(fd int32, _ *vfs.FileDescription, _ vfs.FDFlags) { used[fd] = true })
	var out []int32
	for fd := int32(0); fd < nofile(t) && len(out) < n; fd++ {
		if !used[fd] {
			out = append(out, fd)
		}
	}
	if len(out) < n {
		return nil, unix.EMFILE
	}
	return out, nil
}

// sockStatusFlags turns SOCK_NONBLOCK into O_NONBLOCK.
func sockStatusFlags(flags int32) uint32 {
	if flags&unix.SOCK_NONBLOCK != 0 {
		return unix.O_NONBLOCK
	}
	return 0
}

// Socket implements Linux syscall socket(2).
func Socket(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	family, typ, protocol := args[0].Int(), args[1].Int(), args[2].Int()
	if typ&^socket.SockTypeMask&^sockFlags != 0 {
		return 0, unix.EINVAL
	}
	f, err := socket.New(socket.TaskContext(t), int(family), int(typ&socket.SockTypeMask), int(protocol), sockStatusFlags(typ))
	if err != nil {
		return 0, err
	}
	return installFD(t, f, typ&unix.SOCK_CLOEXEC != 0)
}

// Socketpair implements Linux syscall socketpair(2). As in Linux, the two
// descriptors are chosen and stored in sv before the sockets are made.
func Socketpair(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	family, typ, protocol, sv := args[0].Int(), args[1].Int(), args[2].Int(), args[3].Pointer()
	if typ&^socket.SockTypeMask&^sockFlags != 0 {
		return 0, unix.EINVAL
	}
	fds, err := freeFDs(t, 2)
	if err != nil {
		return 0, err
	}
	out := make([]byte, 8)
	le.PutUint32(out, uint32(fds[0]))
	le.PutUint32(out[4:], uint32(fds[1]))
	if err := t.CopyOutBytes(sv, out); err != nil {
		return 0, err
	}
	a, b, err := socket.NewPair(socket.TaskContext(t), int(family), int(typ&socket.SockTypeMask), int(protocol), sockStatusFlags(typ))
	if err != nil {
		return 0, err
	}
	fl := vfs.FDFlags{CloseOnExec: typ&unix.SOCK_CLOEXEC != 0}
	defer a.DecRef()
	defer b.DecRef()
	fa, err := t.FDTable().NewFD(0, a, fl, nofile(t))
	if err != nil {
		return 0, err
	}
	fb, err := t.FDTable().NewFD(0, b, fl, nofile(t))
	if err != nil {
		if f, rerr := t.FDTable().Remove(fa); rerr == nil {
			f.DecRef()
		}
		return 0, err
	}
	if fa != fds[0] || fb != fds[1] {
		// Another thread took a reserved number meanwhile.
		le.PutUint32(out, uint32(fa))
		le.PutUint32(out[4:], uint32(fb))
		_ = t.CopyOutBytes(sv, out)
	}
	return 0, nil
}

// Bind implements Linux syscall bind(2).
func Bind(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	addr, err := copyInAddr(t, args[1].Pointer(), args[2].Int())
	if err != nil {
		return 0, err
	}
	return 0, s.Bind(socket.TaskContext(t), addr)
}

// Listen implements Linux syscall listen(2). The backlog is clamped to
// somaxconn as an unsigned value, so a negative one means the maximum.
func Listen(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	backlog := min(uint32(args[1].Int()), socket.Somaxconn)
	return 0, s.Listen(socket.TaskContext(t), int(backlog))
}

// accept is accept4(2) (__sys_accept4_file(), do_accept()).
func accept(t *kernel.Task, fd int32, addr, addrLen uintptr, flags int32) (uintptr, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if f.IsPath() {
		return 0, unix.EBADF
	}
	if flags&^sockFlags != 0 {
		return 0, unix.EINVAL
	}
	if _, err := freeFDs(t, 1); err != nil {
		return 0, err
	}
	s, err := socket.FromFile(f)
	if err != nil {
		return 0, err
	}
	ctx := socket.TaskContext(t)
	ns, err := s.Accept(ctx, f.StatusFlags()&unix.O_NONBLOCK != 0)
	if err != nil {
		return 0, err
	}
	nf := socket.NewFile(ctx, ns, sockStatusFlags(flags))
	if addr != 0 {
		peer, err := ns.PeerName()
		if err != nil {
			nf.DecRef()
			return 0, unix.ECONNABORTED
		}
		if err := copyOutAddrLen(t, peer, addr, addrLen); err != nil {
			nf.DecRef()
			return 0, err
		}
	}
	return installFD(t, nf, flags&unix.SOCK_CLOEXEC != 0)
}

// Accept implements Linux syscall accept(2).
func Accept(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return accept(t, args[0].Int(), args[1].Pointer(), args[2].Pointer(), 0)
}

// Accept4 implements Linux syscall accept4(2).
func Accept4(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return accept(t, args[0].Int(), args[1].Pointer(), args[2].Pointer(), args[3].Int())
}

// Connect implements Linux syscall connect(2).
func Connect(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	addr, err := copyInAddr(t, args[1].Pointer(), args[2].Int())
	if err != nil {
		return 0, err
	}
	return 0, s.Connect(socket.TaskContext(t), addr, f.StatusFlags()&unix.O_NONBLOCK != 0)
}

// Getsockname implements Linux syscall getsockname(2).
func Getsockname(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, copyOutAddrLen(t, s.Name(), args[1].Pointer(), args[2].Pointer())
}

// Getpeername implements Linux syscall getpeername(2).
func Getpeername(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	a, err := s.PeerName()
	if err != nil {
		return 0, err
	}
	return 0, copyOutAddrLen(t, a, args[1].Pointer(), args[2].Pointer())
}

// userBuf returns the sequence for one app buffer (import_ubuf()): the
// length is clamped to MAX_RW_COUNT and the range must be in the user
// half (EFAULT).
func userBuf(t *kernel.Task, addr uintptr, n uint64) (socket.IOSequence, error) {
	n = min(n, maxRWCount)
	if err := checkUserRange(addr, n); err != nil {
		return socket.IOSequence{}, err
	}
	return socket.UserIO(t, []socket.Segment{{Base: addr, Len: int(n)}}), nil
}

// userIovecs reads an iovec array for a socket (import_iovec()): EINVAL
// or EFAULT for the array, then every segment must be in the user half
// (EFAULT).
func userIovecs(t *kernel.Task, addr uintptr, n int) (socket.IOSequence, error) {
	iovs, err := t.CopyInIovecs(addr, n)
	if err != nil {
		return socket.IOSequence{}, err
	}
	segs := make([]socket.Segment, 0, len(iovs))
	for _, v := range iovs {
		if err := checkUserRange(v.Base, v.Len); err != nil {
			return socket.IOSequence{}, err
		}
		segs = append(segs, socket.Segment{Base: v.Base, Len: int(v.Len)})
	}
	return socket.UserIO(t, segs), nil
}

// sendFlags applies the flags every send has: internal ones are dropped
// and O_NONBLOCK means MSG_DONTWAIT.
func sendFlags(f *vfs.FileDescription, flags int) int {
	return flags&^msgInternalSendmsgFlags | socket.FileFlags(f)
}

// Sendto implements Linux syscall sendto(2) (and send(2)).
func Sendto(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	src, err := userBuf(t, args[1].Pointer(), uint64(args[2].SizeT()))
	if err != nil {
		return 0, err
	}
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var to []byte
	if a := args[4].Pointer(); a != 0 {
		if to, err = copyInAddr(t, a, args[5].Int()); err != nil {
			return 0, err
		}
	}
	n, err := s.SendMsg(socket.TaskContext(t), src, to, nil, sendFlags(f, int(args[3].Int())))
	return uintptr(n), err
}

// Recvfrom implements Linux syscall recvfrom(2) (and recv(2)). Files
// passed with the data are lost: there is no control buffer.
func Recvfrom(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	dst, err := userBuf(t, args[1].Pointer(), uint64(args[2].SizeT()))
	if err != nil {
		return 0, err
	}
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	r, err := s.RecvMsg(socket.TaskContext(t), dst, int(args[3].Int())|socket.FileFlags(f))
	r.ReleaseRights()
	if err != nil {
		return 0, err
	}
	if a := args[4].Pointer(); a != 0 {
		if err := copyOutAddrLen(t, r.From, a, args[5].Pointer()); err != nil {
			return 0, err
		}
	}
	return uintptr(r.N), nil
}

// msghdr is struct user_msghdr as read from the app.
type msghdr struct {
	name       uintptr
	namelen    int32
	iov        uintptr
	iovlen     uint64
	control    uintptr
	controllen uint64
}

// msghdrLen is sizeof(struct user_msghdr); its msg_controllen and
// msg_flags are at these offsets.
const (
	msghdrLen        = 56
	msghdrControlLen = 40
	msghdrFlags      = 48
)

// copyInMsghdr reads a msghdr (copy_msghdr_from_user(), __copy_msghdr()):
// a NULL name means no name; a negative name length is EINVAL, a long one
// is cut to sockaddr_storage; more than UIO_MAXIOV iovecs is EMSGSIZE.
func copyInMsghdr(t *kernel.Task, addr uintptr) (msghdr, error) {
	b := make([]byte, msghdrLen)
	if err := t.CopyInBytes(addr, b); err != nil {
		return msghdr{}, err
	}
	m := msghdr{
		name:       uintptr(le.Uint64(b[0:])),
		namelen:    int32(le.Uint32(b[8:])),
		iov:        uintptr(le.Uint64(b[16:])),
		iovlen:     le.Uint64(b[24:]),
		control:    uintptr(le.Uint64(b[32:])),
		controllen: le.Uint64(b[40:]),
	}
	if m.name == 0 {
		m.namelen = 0
	}
	if m.namelen < 0 {
		return msghdr{}, unix.EINVAL
	}
	return m, nil
}

// checkIovlen is the UIO_MAXIOV check of __copy_msghdr().
func (m *msghdr) checkIovlen() error {
	if m.iovlen > kernel.UIOMaxIov {
		return unix.EMSGSIZE
	}
	return nil
}

// sendmsg is ___sys_sendmsg() for one msghdr at addr. It returns the
// bytes sent and the bytes the msghdr asked to send.
func sendmsg(t *kernel.Task, f *vfs.FileDescription, s socket.Socket, addr uintptr, flags int) (int, int, error) {
	m, err := copyInMsghdr(t, addr)
	if err != nil {
		return 0, 0, err
	}
	var to []byte
	if m.name != 0 && m.namelen > 0 {
		if to, err = copyInAddr(t, m.name, min(m.namelen, sockaddrStorageLen)); err != nil {
			return 0, 0, err
		}
	}
	if err := m.checkIovlen(); err != nil {
		return 0, 0, err
	}
	src, err := userIovecs(t, m.iov, int(m.iovlen))
	if err != nil {
		return 0, 0, err
	}
	var control []byte
	if m.controllen > 0 {
		// sock_kmalloc() refuses more than optmem_max.
		if m.controllen > socket.OptMemMax {
			return 0, 0, unix.ENOBUFS
		}
		control = make([]byte, m.controllen)
		if err := t.CopyInBytes(m.control, control); err != nil {
			return 0, 0, err
		}
	}
	n, err := s.SendMsg(socket.TaskContext(t), src, to, control, sendFlags(f, flags))
	return n, src.Len(), err
}

// Sendmsg implements Linux syscall sendmsg(2).
func Sendmsg(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[2].Int()
	if uint32(flags)&msgCmsgCompat != 0 {
		return 0, unix.EINVAL
	}
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	n, _, err := sendmsg(t, f, s, args[1].Pointer(), int(flags))
	return uintptr(n), err
}

// recvmsg is ___sys_recvmsg() for one msghdr at addr. It returns the
// bytes received and the msg_flags reported.
func recvmsg(t *kernel.Task, f *vfs.FileDescription, s socket.Socket, addr uintptr, flags int) (int, int, error) {
	m, err := copyInMsghdr(t, addr)
	if err != nil {
		return 0, 0, err
	}
	if err := m.checkIovlen(); err != nil {
		return 0, 0, err
	}
	dst, err := userIovecs(t, m.iov, int(m.iovlen))
	if err != nil {
		return 0, 0, err
	}
	flags |= socket.FileFlags(f)
	r, err := s.RecvMsg(socket.TaskContext(t), dst, flags)
	if err != nil {
		r.ReleaseRights()
		return 0, 0, err
	}
	cloexec := flags&unix.MSG_CMSG_CLOEXEC != 0
	ctl := socket.RecvControl(&r, m.control != 0, int(min(m.controllen, uint64(1)<<31-1)), cloexec, func(file *vfs.FileDescription, cloexec bool) (int32, error) {
		return t.FDTable().NewFD(0, file, vfs.FDFlags{CloseOnExec: cloexec}, nofile(t))
	})
	for _, w := range ctl.Writes {
		if err := t.CopyOutBytes(m.control+uintptr(w.Off), w.Data); err != nil {
			// put_cmsg() and scm_detach_fds() fail quietly: the
			// files are not installed and nothing is reported.
			for _, fd := range ctl.Installed {
				if file, rerr := t.FDTable().Remove(fd); rerr == nil {
					file.DecRef()
				}
			}
			ctl = socket.ControlOut{Truncated: len(ctl.Installed) > 0 || ctl.Truncated}
			break
		}
	}
	if m.name != 0 {
		if err := copyOutAddr(t, r.From, m.name, m.namelen, addr+8); err != nil {
			return 0, 0, err
		}
	}
	msgFlags := r.Flags | flags&unix.MSG_CMSG_CLOEXEC
	if ctl.Truncated {
		msgFlags |= unix.MSG_CTRUNC
	}
	if err := t.CopyOutBytes(addr+msghdrFlags, socket.Int(int32(msgFlags))); err != nil {
		return 0, 0, err
	}
	cl := make([]byte, 8)
	le.PutUint64(cl, uint64(ctl.Len))
	if err := t.CopyOutBytes(addr+msghdrControlLen, cl); err != nil {
		return 0, 0, err
	}
	return r.N, msgFlags, nil
}

// Recvmsg implements Linux syscall recvmsg(2).
func Recvmsg(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[2].Int()
	if uint32(flags)&msgCmsgCompat != 0 {
		return 0, unix.EINVAL
	}
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	n, _, err := recvmsg(t, f, s, args[1].Pointer(), int(flags))
	return uintptr(n), err
}

// mmsghdrLen is sizeof(struct mmsghdr): a msghdr and msg_len, padded.
const mmsghdrLen = 64

// Sendmmsg implements Linux syscall sendmmsg(2) (__sys_sendmmsg()): it
// stops at the first error or short send, and reports an error only if
// nothing was sent.
func Sendmmsg(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	vec, vlen, flags := args[1].Pointer(), args[2].Uint(), args[3].Int()
	if uint32(flags)&msgCmsgCompat != 0 {
		return 0, unix.EINVAL
	}
	vlen = min(vlen, kernel.UIOMaxIov)
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	done := uint32(0)
	fl := int(flags) | msgBatch
	for done < vlen {
		if done == vlen-1 {
			fl = int(flags)
		}
		entry := vec + uintptr(done)*mmsghdrLen
		var n, total int
		n, total, err = sendmsg(t, f, s, entry, fl)
		if err != nil {
			break
		}
		if err = t.CopyOutBytes(entry+msghdrLen, socket.Int(int32(n))); err != nil {
			break
		}
		done++
		if n < total {
			break
		}
	}
	if done > 0 {
		return uintptr(done), nil
	}
	return 0, err
}

// Recvmmsg implements Linux syscall recvmmsg(2) (do_recvmmsg()): a
// pending socket error is reported first; after one datagram
// MSG_WAITFORONE stops waiting; the timeout is checked between
// datagrams; an error after some datagrams is left pending on the socket
// (unless EAGAIN) and the count returned.
func Recvmmsg(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	vec, vlen, flags, tsAddr := args[1].Pointer(), args[2].Uint(), int(args[3].Int()), args[4].Pointer()
	if uint32(flags)&msgCmsgCompat != 0 {
		return 0, unix.EINVAL
	}
	var end time.Time
	if tsAddr != 0 {
		b := make([]byte, 16)
		if err := t.CopyInBytes(tsAddr, b); err != nil {
			return 0, err
		}
		sec, nsec := int64(le.Uint64(b)), int64(le.Uint64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return 0, unix.EINVAL
		}
		end = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(nsec))
	}
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	ctx := socket.TaskContext(t)
	if flags&unix.MSG_ERRQUEUE == 0 {
		v, err := s.GetSockOpt(ctx, unix.SOL_SOCKET, unix.SO_ERROR, func() (int, error) { return 4, nil })
		if err == nil && len(v) == 4 {
			if e := unix.Errno(le.Uint32(v)); e != 0 {
				return 0, e
			}
		}
	}
	done := uint32(0)
	var remaining time.Duration
	for done < vlen {
		entry := vec + uintptr(done)*mmsghdrLen
		var n, msgFlags int
		n, msgFlags, err = recvmsg(t, f, s, entry, flags&^unix.MSG_WAITFORONE)
		if err != nil {
			break
		}
		if err = t.CopyOutBytes(entry+msghdrLen, socket.Int(int32(n))); err != nil {
			break
		}
		done++
		if flags&unix.MSG_WAITFORONE != 0 {
			flags |= unix.MSG_DONTWAIT
		}
		if tsAddr != 0 {
			remaining = time.Until(end)
			if remaining <= 0 {
				remaining = 0
				break
			}
		}
		if msgFlags&unix.MSG_OOB != 0 {
			break
		}
	}
	if err != nil {
		if done == 0 {
			return 0, err
		}
		if errno, ok := err.(unix.Errno); ok && errno != unix.EAGAIN {
			if es, ok := s.(socket.ErrorSetter); ok {
				es.SetSockError(errno)
			}
		}
	}
	if tsAddr != 0 && done > 0 {
		b := make([]byte, 16)
		le.PutUint64(b, uint64(remaining/time.Second))
		le.PutUint64(b[8:], uint64(remaining%time.Second))
		if err := t.CopyOutBytes(tsAddr, b); err != nil {
			return 0, err
		}
	}
	return uintptr(done), nil
}

// Shutdown implements Linux syscall shutdown(2).
func Shutdown(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, s.Shutdown(int(args[1].Int()))
}

// Setsockopt implements Linux syscall setsockopt(2). The value is read
// only as far as the option needs.
func Setsockopt(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	level, name, val, n := args[1].Int(), args[2].Int(), args[3].Pointer(), args[4].Int()
	if n < 0 {
		return 0, unix.EINVAL
	}
	opt := socket.NewOptVal(int(n), func(k int) ([]byte, error) {
		b := make([]byte, k)
		if err := t.CopyInBytes(val, b); err != nil {
			return nil, err
		}
		return b, nil
	})
	return 0, s.SetSockOpt(socket.TaskContext(t), int(level), int(name), opt)
}

// Getsockopt implements Linux syscall getsockopt(2): the value is cut to
// the app's optlen, which is then set to the length copied.
func Getsockopt(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, s, err := getSocket(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	level, name, val, lenAddr := args[1].Int(), args[2].Int(), args[3].Pointer(), args[4].Pointer()
	v, err := s.GetSockOpt(socket.TaskContext(t), int(level), int(name), func() (int, error) {
		b := make([]byte, 4)
		if err := t.CopyInBytes(lenAddr, b); err != nil {
			return 0, err
		}
		n := int32(le.Uint32(b))
		if n < 0 {
			return 0, unix.EINVAL
		}
		return int(n), nil
	})
	if err != nil {
		return 0, err
	}
	if err := t.CopyOutBytes(val, v); err != nil {
		return 0, err
	}
	return 0, t.CopyOutBytes(lenAddr, socket.Int(int32(len(v))))
}

// sockRead is read(2) and readv(2) on a socket (sock_read_iter()): a
// receive without flags but O_NONBLOCK; files passed with the data are
// lost. A zero-length read returns at once.
func sockRead(t *kernel.Task, f *vfs.FileDescription, s socket.Socket, dst socket.IOSequence) (uintptr, error) {
	if dst.Len() == 0 {
		return 0, nil
	}
	r, err := s.RecvMsg(socket.TaskContext(t), dst, socket.FileFlags(f))
	r.ReleaseRights()
	return uintptr(r.N), err
}

// sockWrite is write(2) and writev(2) on a socket (sock_write_iter()).
func sockWrite(t *kernel.Task, f *vfs.FileDescription, s socket.Socket, src socket.IOSequence) (uintptr, error) {
	n, err := s.SendMsg(socket.TaskContext(t), src, nil, nil, socket.FileFlags(f))
	return uintptr(n), err
}
