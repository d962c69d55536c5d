package proto

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func sampleStat() Stat {
	return Stat{Dev: 1, Ino: 2, Mode: unix.S_IFREG | 0o644, Nlink: 3, UID: 4, GID: 5, Rdev: 6, Size: 7,
		Blksize: 4096, Blocks: 8, Atime: Timespec{9, 10}, Mtime: Timespec{11, 12}, Ctime: Timespec{13, 999999999}}
}

// samples holds one populated request and reply per message type.
func samples() map[MsgType][2]Message {
	ni := NodeInfo{ID: 42, Stat: sampleStat()}
	return map[MsgType][2]Message{
		MsgMount:    {&MountReq{Version: 1}, &MountResp{Version: 1, Flags: MountReadOnly, Root: ni}},
		MsgWalk:     {&WalkReq{Dir: 1, Names: []string{"a", "bb", "ccc"}}, &WalkResp{Errno: 2, Nodes: []NodeInfo{ni, ni}}},
		MsgStat:     {&NodeReq{Node: 7}, &StatResp{Stat: sampleStat()}},
		MsgSetStat:  {&SetStatReq{Node: 7, Attr: SetAttr{Mask: SetStatAll, Mode: 0o4755, UID: 1, GID: 2, Size: 3, Atime: Timespec{1, UtimeNow}, Mtime: Timespec{2, UtimeOmit}}}, &StatResp{Stat: sampleStat()}},
		MsgOpen:     {&OpenReq{Node: 7, Flags: unix.O_RDWR | unix.O_APPEND}, &Empty{}},
		MsgCreate:   {&CreateReq{Dir: 1, Name: "f", Flags: unix.O_RDWR, Mode: 0o644, UID: 1000, GID: 1000}, &NodeResp{Node: ni}},
		MsgMkdir:    {&MkdirReq{Dir: 1, Name: "d", Mode: 0o755, UID: 1, GID: 2}, &NodeResp{Node: ni}},
		MsgMknod:    {&MkdirReq{Dir: 1, Name: "p", Mode: unix.S_IFIFO | 0o644}, &NodeResp{Node: ni}},
		MsgSymlink:  {&SymlinkReq{Dir: 1, Name: "l", Target: "/x/y", UID: 1, GID: 2}, &NodeResp{Node: ni}},
		MsgLink:     {&LinkReq{Dir: 1, Name: "h", Target: 9}, &NodeResp{Node: ni}},
		MsgUnlink:   {&UnlinkReq{Dir: 1, Name: "u", Flags: unix.AT_REMOVEDIR}, &Empty{}},
		MsgRename:   {&RenameReq{OldDir: 1, OldName: "a", NewDir: 2, NewName: "b", Flags: unix.RENAME_NOREPLACE}, &Empty{}},
		MsgReadlink: {&NodeReq{Node: 3}, &ReadlinkResp{Target: "../t"}},
		MsgGetdents: {&GetdentsReq{Node: 3, Cookie: 99}, &GetdentsResp{Next: 100, EOF: true, Dirents: []Dirent{{1, unix.DT_REG, "a"}, {2, unix.DT_DIR, "b"}}}},
		MsgStatFS:   {&NodeReq{Node: 3}, &StatFS{Type: 1, Bsize: 2, Blocks: 3, Bfree: 4, Bavail: 5, Files: 6, Ffree: 7, Namelen: 255, Frsize: 9, Flags: 10}},
		MsgClose:    {&CloseReq{Nodes: []uint64{1, 2, 3}}, &Empty{}},
	}
}

func encode(m Message) []byte {
	var e Encoder
	m.Encode(&e)
	return e.Buf
}

func TestRoundTrip(t *testing.T) {
	for typ, pair := range samples() {
		for i, m := range pair {
			fresh := NewRequest(typ)
			if i == 1 {
				fresh = NewReply(typ)
			}
			b := encode(m)
			if err := Decode(b, fresh); err != nil {
				t.Errorf("%s[%d]: decode: %v", typ, i, err)
				continue
			}
			if !reflect.DeepEqual(m, fresh) {
				t.Errorf("%s[%d]: round trip\n got %+v\nwant %+v", typ, i, fresh, m)
			}
			// Every strict prefix and any trailing byte is malformed.
			for n := 0; n < len(b); n++ {
				if err := Decode(b[:n], NewRequest(typ)); i == 0 && err == nil {
					t.Errorf("%s request: prefix of %d/%d bytes decoded", typ, n, len(b))
				}
			}
			if err := Decode(append(b, 0), fresh); !errors.Is(err, unix.EINVAL) {
				t.Errorf("%s[%d]: trailing byte: %v", typ, i, err)
			}
		}
	}
}

func TestHeader(t *testing.T) {
	h := Header{ID: 1 << 40, Type: MsgWalk | ReplyBit, Flags: 0, Errno: 2}
	b := AppendHeader(nil, h)
	if len(b) != HeaderSize {
		t.Fatalf("header size %d", len(b))
	}
	got, rest, err := DecodeHeader(append(b, 7))
	if err != nil || got != h || !bytes.Equal(rest, []byte{7}) {
		t.Errorf("DecodeHeader: %+v %v %v", got, rest, err)
	}
	if _, _, err := DecodeHeader(b[:HeaderSize-1]); err == nil {
		t.Error("short header decoded")
	}
	if s := (MsgWalk | ReplyBit).String(); s != "walk-reply" {
		t.Errorf("String = %q", s)
	}
}

func TestErrno(t *testing.T) {
	if ErrnoOf(nil) != 0 || ErrnoOf(unix.ENOENT) != uint32(unix.ENOENT) {
		t.Error("ErrnoOf basic")
	}
	if ErrnoOf(errors.New("x")) != uint32(unix.EIO) {
		t.Error("non-errno error must travel as EIO")
	}
	if ErrorOf(0) != nil || ErrorOf(uint32(unix.EEXIST)) != unix.EEXIST || ErrorOf(MaxErrno+1) != unix.EIO {
		t.Error("ErrorOf")
	}
}

func TestValidName(t *testing.T) {
	for _, n := range []string{"", ".", "..", "a/b", "/", string(make([]byte, NameMax+1)), "a\x00"} {
		if ValidName(n) {
			t.Errorf("ValidName(%q) = true", n)
		}
	}
	for _, n := range []string{"a", "...", ".a", "a..", string(bytes.Repeat([]byte("x"), NameMax))} {
		if !ValidName(n) {
			t.Errorf("ValidName(%q) = false", n)
		}
	}
}

func TestDecoderLimits(t *testing.T) {
	// A count claiming more elements than the bytes left cannot allocate.
	var e Encoder
	e.U64(1)
	e.U32(MaxWalkNames)
	if err := Decode(e.Buf, &WalkReq{}); err == nil {
		t.Error("walk with missing names decoded")
	}
	e = Encoder{}
	e.U32(1 << 31)
	if err := Decode(e.Buf, &ReadlinkResp{}); err == nil {
		t.Error("huge string decoded")
	}
	// Non-canonical bool.
	b := encode(&GetdentsResp{EOF: true})
	b[8] = 2
	if err := Decode(b, &GetdentsResp{}); err == nil {
		t.Error("bool 2 decoded")
	}
	// Dirent names must be valid components.
	b = encode(&GetdentsResp{Dirents: []Dirent{{Name: ".."}}})
	if err := Decode(b, &GetdentsResp{}); err == nil {
		t.Error("dirent .. decoded")
	}
}

// FuzzDecode feeds arbitrary payloads to every request and reply decoder:
// none may panic, and anything accepted re-encodes to exactly the input
// (the encoding is canonical). The seed corpus (every sample, and a few
// broken ones) runs as part of go test.
func FuzzDecode(f *testing.F) {
	for typ, pair := range samples() {
		f.Add(uint16(typ), false, encode(pair[0]))
		f.Add(uint16(typ), true, encode(pair[1]))
		b := encode(pair[0])
		f.Add(uint16(typ), false, b[:len(b)/2])
	}
	f.Add(uint16(MsgWalk), false, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint16(999), false, []byte{})
	f.Fuzz(func(t *testing.T, typ uint16, reply bool, data []byte) {
		m := NewRequest(MsgType(typ))
		if reply {
			m = NewReply(MsgType(typ))
		}
		if m == nil {
			return
		}
		if Decode(data, m) != nil {
			return
		}
		if got := encode(m); !bytes.Equal(got, data) {
			t.Errorf("%s: accepted %x but re-encodes as %x", MsgType(typ), data, got)
		}
	})
}
