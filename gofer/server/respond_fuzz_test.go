package server

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/gofer/proto"
)

// FuzzRespond feeds arbitrary packets to a mounted connection's request
// handler: it must never panic, must answer every packet that has a header
// with a well-formed reply to the same ID, and donates an FD only on
// successful Open/Create. Mutations the fuzzer finds act on a scratch tree.
func FuzzRespond(f *testing.F) {
	root := f.TempDir()
	os.MkdirAll(filepath.Join(root, "dir"), 0o755)
	os.WriteFile(filepath.Join(root, "dir", "file"), []byte("x"), 0o644)
	os.Symlink("/etc", filepath.Join(root, "link"))
	unix.Mkfifo(filepath.Join(root, "fifo"), 0o644)
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		f.Fatal(err)
	}
	s := New(rootFD, Options{MaxNodes: 256})
	f.Cleanup(func() { s.Close() })
	c := &conn{s: s, nodes: newNodeTable(s.opts.MaxNodes)}
	f.Cleanup(c.nodes.clear)
	if _, _, ok := c.respond(proto.Marshal(proto.Header{ID: 1, Type: proto.MsgMount}, &proto.MountReq{Version: 1}), false); !ok || !c.mounted.Load() {
		f.Fatal("mount failed")
	}
	const rootID = 1
	seed := func(t proto.MsgType, m proto.Message) {
		f.Add(proto.Marshal(proto.Header{ID: 7, Type: t}, m))
	}
	seed(proto.MsgWalk, &proto.WalkReq{Dir: rootID, Names: []string{"dir", "file"}})
	seed(proto.MsgWalk, &proto.WalkReq{Dir: rootID, Names: []string{"link", "x"}})
	seed(proto.MsgStat, &proto.NodeReq{Node: rootID})
	seed(proto.MsgSetStat, &proto.SetStatReq{Node: 2, Attr: proto.SetAttr{Mask: proto.SetStatMode, Mode: 0o755}})
	seed(proto.MsgOpen, &proto.OpenReq{Node: rootID, Flags: unix.O_RDONLY})
	seed(proto.MsgOpen, &proto.OpenReq{Node: 3, Flags: unix.O_RDWR})
	seed(proto.MsgCreate, &proto.CreateReq{Dir: rootID, Name: "new", Flags: unix.O_RDWR, Mode: 0o644})
	seed(proto.MsgMkdir, &proto.MkdirReq{Dir: rootID, Name: "nd", Mode: 0o755})
	seed(proto.MsgMknod, &proto.MkdirReq{Dir: rootID, Name: "np", Mode: unix.S_IFIFO | 0o644})
	seed(proto.MsgSymlink, &proto.SymlinkReq{Dir: rootID, Name: "ns", Target: "../../x"})
	seed(proto.MsgLink, &proto.LinkReq{Dir: rootID, Name: "nl", Target: 3})
	seed(proto.MsgUnlink, &proto.UnlinkReq{Dir: rootID, Name: "new"})
	seed(proto.MsgRename, &proto.RenameReq{OldDir: rootID, OldName: "nd", NewDir: 2, NewName: "nd2"})
	seed(proto.MsgReadlink, &proto.NodeReq{Node: 4})
	seed(proto.MsgGetdents, &proto.GetdentsReq{Node: rootID})
	seed(proto.MsgStatFS, &proto.NodeReq{Node: rootID})
	seed(proto.MsgClose, &proto.CloseReq{Nodes: []uint64{5, 6}})
	seed(proto.MsgMount, &proto.MountReq{Version: 1})
	f.Add([]byte{1, 2, 3})
	f.Add(proto.AppendHeader(nil, proto.Header{ID: 9, Type: 0xffff}))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		out, fd, ok := c.respond(pkt, false)
		if fd >= 0 {
			unix.Close(fd)
		}
		in, _, err := proto.DecodeHeader(pkt)
		if err != nil {
			if ok {
				t.Fatal("answered a packet without a header")
			}
			return
		}
		if !ok {
			t.Fatal("no answer to a packet with a header")
		}
		h, payload, err := proto.DecodeHeader(out)
		if err != nil || h.ID != in.ID || h.Type != in.Type|proto.ReplyBit || h.Flags != 0 || h.Errno > proto.MaxErrno {
			t.Fatalf("bad reply header %+v to %+v", h, in)
		}
		if h.Errno != 0 {
			if len(payload) != 0 || fd >= 0 {
				t.Fatal("error reply with payload or FD")
			}
			return
		}
		if err := proto.Decode(payload, proto.NewReply(in.Type)); err != nil {
			t.Fatalf("reply to %s does not decode", in.Type)
		}
		if (fd >= 0) != (proto.ReplyFDs(in.Type) == 1) {
			t.Fatalf("reply to %s: fd %d", in.Type, fd)
		}
	})
}
