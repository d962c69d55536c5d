package conformance

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/gofer/proto"
)

// rawConn speaks packets directly, to send what a well-behaved client never
// would.
type rawConn struct {
	t  *testing.T
	fd int
}

func (r *rawConn) send(pkt []byte, fds ...int) {
	r.t.Helper()
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(r.fd, pkt, oob, nil, 0); err != nil {
		r.t.Fatalf("sendmsg: %v", err)
	}
}

// recv returns the next reply; it fails the test after a timeout.
func (r *rawConn) recv() (proto.Header, []byte) {
	r.t.Helper()
	buf := make([]byte, proto.MaxMessageSize+1)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := unix.Recvmsg(r.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		r.t.Fatalf("recvmsg: %v (server did not answer)", err)
	}
	if oobn > 0 {
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for i := range msgs {
			fds, _ := unix.ParseUnixRights(&msgs[i])
			for _, fd := range fds {
				unix.Close(fd)
			}
		}
	}
	h, payload, err := proto.DecodeHeader(buf[:n])
	if err != nil {
		r.t.Fatalf("short reply (%d bytes)", n)
	}
	return h, payload
}

// expect sends pkt and checks the reply's ID, type and errno.
func (r *rawConn) expect(what string, pkt []byte, errno unix.Errno, fds ...int) []byte {
	r.t.Helper()
	r.send(pkt, fds...)
	want, _, _ := proto.DecodeHeader(pkt)
	h, payload := r.recv()
	if h.ID != want.ID {
		r.t.Fatalf("%s: reply ID %d, want %d", what, h.ID, want.ID)
	}
	if h.Type != want.Type|proto.ReplyBit {
		r.t.Errorf("%s: reply type %#x, want %#x", what, uint16(h.Type), uint16(want.Type|proto.ReplyBit))
	}
	if unix.Errno(h.Errno) != errno {
		r.t.Errorf("%s: errno %d (%v), want %d (%v)", what, h.Errno, unix.Errno(h.Errno), errno, errno)
	}
	return payload
}

func packet(id uint64, t proto.MsgType, m proto.Message) []byte {
	return proto.Marshal(proto.Header{ID: id, Type: t}, m)
}

func rawPacket(id uint64, t proto.MsgType, payload ...[]byte) []byte {
	b := proto.AppendHeader(nil, proto.Header{ID: id, Type: t})
	for _, p := range payload {
		b = append(b, p...)
	}
	return b
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// testMalformed sends malformed requests on a fresh connection: the server
// must answer each with EINVAL (or drop a packet too short to answer) and
// keep serving.
func (s *suite) testMalformed(t *testing.T, e *env) {
	fd, _ := s.start(t, e.root, false)
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(5 * time.Second))
	must(t, unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv))
	r := &rawConn{t: t, fd: fd}

	// Before Mount, nothing else is served.
	r.expect("stat before mount", packet(1, proto.MsgStat, &proto.NodeReq{Node: 1}), unix.EINVAL)
	// Version negotiation: too old is refused, newer is answered with ours.
	r.expect("mount v0", packet(2, proto.MsgMount, &proto.MountReq{Version: 0}), unix.EPROTONOSUPPORT)
	var mr proto.MountResp
	must(t, proto.Decode(r.expect("mount v99", packet(3, proto.MsgMount, &proto.MountReq{Version: 99}), 0), &mr))
	if mr.Version != proto.Version || !mr.Root.Stat.IsDir() {
		t.Fatalf("mount reply %+v", mr)
	}
	root := mr.Root.ID
	r.expect("second mount", packet(4, proto.MsgMount, &proto.MountReq{Version: 1}), unix.EINVAL)

	hdr := func(id uint64, t proto.MsgType, flags uint16, errno uint32) []byte {
		return proto.AppendHeader(nil, proto.Header{ID: id, Type: t, Flags: flags, Errno: errno})
	}
	nul := "a\x00b"
	badWalkName := append(append(le64(root), le32(1)...), append(le32(uint32(len(nul))), nul...)...)
	pipe := make([]int, 2)
	must(t, unix.Pipe2(pipe, unix.O_CLOEXEC))
	defer unix.Close(pipe[0])
	defer unix.Close(pipe[1])

	id := uint64(100)
	for _, tc := range []struct {
		what  string
		pkt   []byte
		errno unix.Errno
		fds   []int
	}{
		{"unknown type", rawPacket(id, 999, le64(root)), unix.EINVAL, nil},
		{"type zero", rawPacket(id, 0), unix.EINVAL, nil},
		{"reply bit", rawPacket(id, proto.MsgStat|proto.ReplyBit, le64(root)), unix.EINVAL, nil},
		{"header flags", append(hdr(id, proto.MsgStat, 1, 0), le64(root)...), unix.EINVAL, nil},
		{"header errno", append(hdr(id, proto.MsgStat, 0, 5), le64(root)...), unix.EINVAL, nil},
		{"truncated payload", rawPacket(id, proto.MsgStat, le32(1)), unix.EINVAL, nil},
		{"trailing bytes", rawPacket(id, proto.MsgStat, le64(root), []byte{0}), unix.EINVAL, nil},
		{"empty payload", rawPacket(id, proto.MsgWalk), unix.EINVAL, nil},
		{"walk count huge", rawPacket(id, proto.MsgWalk, le64(root), le32(1<<30)), unix.EINVAL, nil},
		{"walk count over limit", packet(id, proto.MsgWalk, &proto.WalkReq{Dir: root, Names: make([]string, proto.MaxWalkNames+1)}), unix.EINVAL, nil},
		{"walk string huge", rawPacket(id, proto.MsgWalk, le64(root), le32(1), le32(1<<31)), unix.EINVAL, nil},
		{"walk NUL in name", rawPacket(id, proto.MsgWalk, badWalkName), unix.EINVAL, nil},
		{"walk name too long", packet(id, proto.MsgWalk, &proto.WalkReq{Dir: root, Names: []string{string(make([]byte, 300))}}), unix.EINVAL, nil},
		{"open O_CREAT", packet(id, proto.MsgOpen, &proto.OpenReq{Node: root, Flags: unix.O_CREAT}), unix.EINVAL, nil},
		{"open O_PATH", packet(id, proto.MsgOpen, &proto.OpenReq{Node: root, Flags: unix.O_PATH}), unix.EINVAL, nil},
		{"open accmode 3", packet(id, proto.MsgOpen, &proto.OpenReq{Node: root, Flags: 3}), unix.EINVAL, nil},
		{"open O_NOFOLLOW", packet(id, proto.MsgOpen, &proto.OpenReq{Node: root, Flags: unix.O_NOFOLLOW}), unix.EINVAL, nil},
		{"open unknown node", packet(id, proto.MsgOpen, &proto.OpenReq{Node: 1 << 40}), unix.EBADF, nil},
		{"setstat mask", packet(id, proto.MsgSetStat, &proto.SetStatReq{Node: root, Attr: proto.SetAttr{Mask: 1 << 20}}), unix.EINVAL, nil},
		{"setstat nsec", packet(id, proto.MsgSetStat, &proto.SetStatReq{Node: root, Attr: proto.SetAttr{Mask: proto.SetStatMtime, Mtime: proto.Timespec{Nsec: 2e9}}}), unix.EINVAL, nil},
		{"setstat type bits", packet(id, proto.MsgSetStat, &proto.SetStatReq{Node: root, Attr: proto.SetAttr{Mask: proto.SetStatMode, Mode: unix.S_IFREG | 0o644}}), unix.EINVAL, nil},
		{"setstat negative size", packet(id, proto.MsgSetStat, &proto.SetStatReq{Node: root, Attr: proto.SetAttr{Mask: proto.SetStatSize, Size: 1 << 63}}), unix.EINVAL, nil},
		{"create dir mode", packet(id, proto.MsgCreate, &proto.CreateReq{Dir: root, Name: "x", Mode: unix.S_IFDIR | 0o755}), unix.EINVAL, nil},
		{"create O_DIRECTORY", packet(id, proto.MsgCreate, &proto.CreateReq{Dir: root, Name: "x", Flags: unix.O_DIRECTORY, Mode: 0o644}), unix.EINVAL, nil},
		{"mkdir type bits", packet(id, proto.MsgMkdir, &proto.MkdirReq{Dir: root, Name: "x", Mode: unix.S_IFDIR | 0o755}), unix.EINVAL, nil},
		{"unlink flags", packet(id, proto.MsgUnlink, &proto.UnlinkReq{Dir: root, Name: "file", Flags: 0x100}), unix.EINVAL, nil},
		{"getdents bad cookie", packet(id, proto.MsgGetdents, &proto.GetdentsReq{Node: root, Cookie: 1 << 63}), unix.EINVAL, nil},
		{"close too many", packet(id, proto.MsgClose, &proto.CloseReq{Nodes: make([]uint64, proto.MaxCloseNodes+1)}), unix.EINVAL, nil},
		{"request with FD", packet(id, proto.MsgStat, &proto.NodeReq{Node: root}), unix.EINVAL, []int{pipe[0]}},
		{"oversized", rawPacket(id, proto.MsgStat, le64(root), make([]byte, proto.MaxMessageSize)), unix.EINVAL, nil},
	} {
		binary.LittleEndian.PutUint64(tc.pkt, id)
		r.expect(tc.what, tc.pkt, tc.errno, tc.fds...)
		id++
	}
	// Too short to carry an ID: dropped without a reply; the next request
	// is answered normally.
	r.send([]byte{1, 2, 3})
	r.expect("stat after garbage", packet(500, proto.MsgStat, &proto.NodeReq{Node: root}), 0)
	// The tree is untouched.
	if _, err := unix.Open(e.host("x"), unix.O_PATH, 0); err == nil {
		t.Error("a malformed request created a file")
	}
}
