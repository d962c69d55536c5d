package proto

import "golang.org/x/sys/unix"

// Message is a request or reply payload.
type Message interface {
	// Encode appends the payload to e.
	Encode(e *Encoder)
	// Decode reads the payload; callers check d.Finish afterwards.
	Decode(d *Decoder)
}

// Decode decodes payload b into m, returning EINVAL if b is malformed.
func Decode(b []byte, m Message) error {
	d := NewDecoder(b)
	m.Decode(d)
	return d.Finish()
}

// Timespec is a time as seconds and nanoseconds since the epoch.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// Special Timespec.Nsec values accepted by SetStat, as utimensat(2).
const (
	UtimeNow  = unix.UTIME_NOW
	UtimeOmit = unix.UTIME_OMIT
)

func (t *Timespec) encode(e *Encoder) { e.I64(t.Sec); e.I64(t.Nsec) }

func (t *Timespec) decode(d *Decoder, special bool) {
	t.Sec, t.Nsec = d.I64(), d.I64()
	if t.Nsec >= 0 && t.Nsec < 1e9 {
		return
	}
	if special && (t.Nsec == UtimeNow || t.Nsec == UtimeOmit) {
		return
	}
	d.Fail()
}

// Stat is the attributes of a host file, as stat(2).
type Stat struct {
	Dev     uint64
	Ino     uint64
	Mode    uint32 // file type and permission bits (S_IFMT|07777)
	Nlink   uint64
	UID     uint32
	GID     uint32
	Rdev    uint64
	Size    int64
	Blksize int64
	Blocks  int64 // 512-byte units
	Atime   Timespec
	Mtime   Timespec
	Ctime   Timespec
}

// StatSize is the encoded size of Stat.
const StatSize = 8 + 8 + 4 + 8 + 4 + 4 + 8 + 8 + 8 + 8 + 3*16

// FileType returns the S_IFMT bits of the mode.
func (s *Stat) FileType() uint32 { return s.Mode & unix.S_IFMT }

// IsDir reports whether the file is a directory.
func (s *Stat) IsDir() bool { return s.FileType() == unix.S_IFDIR }

// IsRegular reports whether the file is a regular file.
func (s *Stat) IsRegular() bool { return s.FileType() == unix.S_IFREG }

// IsSymlink reports whether the file is a symbolic link.
func (s *Stat) IsSymlink() bool { return s.FileType() == unix.S_IFLNK }

// StatFromUnix converts a host stat.
func StatFromUnix(st *unix.Stat_t) Stat {
	return Stat{
		Dev: st.Dev, Ino: st.Ino, Mode: st.Mode, Nlink: uint64(st.Nlink),
		UID: st.Uid, GID: st.Gid, Rdev: st.Rdev, Size: st.Size,
		Blksize: int64(st.Blksize), Blocks: st.Blocks,
		Atime: Timespec{st.Atim.Sec, st.Atim.Nsec},
		Mtime: Timespec{st.Mtim.Sec, st.Mtim.Nsec},
		Ctime: Timespec{st.Ctim.Sec, st.Ctim.Nsec},
	}
}

// Encode implements Message.
func (s *Stat) Encode(e *Encoder) {
	e.U64(s.Dev)
	e.U64(s.Ino)
	e.U32(s.Mode)
	e.U64(s.Nlink)
	e.U32(s.UID)
	e.U32(s.GID)
	e.U64(s.Rdev)
	e.I64(s.Size)
	e.I64(s.Blksize)
	e.I64(s.Blocks)
	s.Atime.encode(e)
	s.Mtime.encode(e)
	s.Ctime.encode(e)
}

// Decode implements Message.
func (s *Stat) Decode(d *Decoder) {
	s.Dev = d.U64()
	s.Ino = d.U64()
	s.Mode = d.U32()
	s.Nlink = d.U64()
	s.UID = d.U32()
	s.GID = d.U32()
	s.Rdev = d.U64()
	s.Size = d.I64()
	s.Blksize = d.I64()
	s.Blocks = d.I64()
	s.Atime.decode(d, false)
	s.Mtime.decode(d, false)
	s.Ctime.decode(d, false)
}

// NodeInfo names a server node and carries its attributes at the time of
// the reply.
type NodeInfo struct {
	ID   uint64
	Stat Stat
}

// NodeInfoSize is the encoded size of NodeInfo.
const NodeInfoSize = 8 + StatSize

// Encode implements Message.
func (n *NodeInfo) Encode(e *Encoder) { e.U64(n.ID); n.Stat.Encode(e) }

// Decode implements Message.
func (n *NodeInfo) Decode(d *Decoder) { n.ID = d.U64(); n.Stat.Decode(d) }

// Empty is an empty payload (replies of Unlink, Rename, Close, Open).
type Empty struct{}

// Encode implements Message.
func (*Empty) Encode(*Encoder) {}

// Decode implements Message.
func (*Empty) Decode(*Decoder) {}

// NodeReq names one node (Stat, Readlink, StatFS).
type NodeReq struct{ Node uint64 }

// Encode implements Message.
func (m *NodeReq) Encode(e *Encoder) { e.U64(m.Node) }

// Decode implements Message.
func (m *NodeReq) Decode(d *Decoder) { m.Node = d.U64() }

// Mount flags.
const (
	// MountReadOnly: the server refuses every mutation with EROFS.
	MountReadOnly = 1 << 0
)

// MountReq starts a connection; Version is the highest the client speaks.
type MountReq struct{ Version uint32 }

// Encode implements Message.
func (m *MountReq) Encode(e *Encoder) { e.U32(m.Version) }

// Decode implements Message.
func (m *MountReq) Decode(d *Decoder) { m.Version = d.U32() }

// MountResp carries the negotiated version and the root node.
type MountResp struct {
	Version uint32
	Flags   uint32 // Mount* flags
	Root    NodeInfo
}

// Encode implements Message.
func (m *MountResp) Encode(e *Encoder) { e.U32(m.Version); e.U32(m.Flags); m.Root.Encode(e) }

// Decode implements Message.
func (m *MountResp) Decode(d *Decoder) {
	m.Version, m.Flags = d.U32(), d.U32()
	m.Root.Decode(d)
}

// WalkReq walks Names one component at a time from directory Dir.
type WalkReq struct {
	Dir   uint64
	Names []string
}

// Encode implements Message.
func (m *WalkReq) Encode(e *Encoder) {
	e.U64(m.Dir)
	e.U32(uint32(len(m.Names)))
	for _, n := range m.Names {
		e.String(n)
	}
}

// Decode implements Message.
func (m *WalkReq) Decode(d *Decoder) {
	m.Dir = d.U64()
	n := d.Count(MaxWalkNames, 4)
	m.Names = make([]string, n)
	for i := range m.Names {
		m.Names[i] = d.String(NameMax)
	}
}

// WalkResp holds one node per component walked. Fewer nodes than names means
// the walk stopped: at a symlink (the last node, Errno zero) or at a failing
// component (Errno says why, e.g. ENOENT).
type WalkResp struct {
	Errno uint32
	Nodes []NodeInfo
}

// Encode implements Message.
func (m *WalkResp) Encode(e *Encoder) {
	e.U32(m.Errno)
	e.U32(uint32(len(m.Nodes)))
	for i := range m.Nodes {
		m.Nodes[i].Encode(e)
	}
}

// Decode implements Message.
func (m *WalkResp) Decode(d *Decoder) {
	m.Errno = d.U32()
	if m.Errno > MaxErrno {
		d.Fail()
	}
	m.Nodes = make([]NodeInfo, d.Count(MaxWalkNames, NodeInfoSize))
	for i := range m.Nodes {
		m.Nodes[i].Decode(d)
	}
}

// StatResp carries attributes (Stat and SetStat replies).
type StatResp struct{ Stat Stat }

// Encode implements Message.
func (m *StatResp) Encode(e *Encoder) { m.Stat.Encode(e) }

// Decode implements Message.
func (m *StatResp) Decode(d *Decoder) { m.Stat.Decode(d) }

// SetStat mask bits: which fields of SetStatReq apply.
const (
	SetStatMode  = 1 << 0
	SetStatUID   = 1 << 1
	SetStatGID   = 1 << 2
	SetStatSize  = 1 << 3
	SetStatAtime = 1 << 4
	SetStatMtime = 1 << 5

	SetStatAll = SetStatMode | SetStatUID | SetStatGID | SetStatSize | SetStatAtime | SetStatMtime
)

// SetAttr is the mutable subset of Stat; Mask selects the fields to apply.
type SetAttr struct {
	Mask  uint32
	Mode  uint32 // permission bits only (07777)
	UID   uint32
	GID   uint32
	Size  uint64
	Atime Timespec // Nsec may be UtimeNow or UtimeOmit
	Mtime Timespec
}

// SetStatReq changes the attributes of Node.
type SetStatReq struct {
	Node uint64
	Attr SetAttr
}

// Encode implements Message.
func (m *SetStatReq) Encode(e *Encoder) {
	e.U64(m.Node)
	e.U32(m.Attr.Mask)
	e.U32(m.Attr.Mode)
	e.U32(m.Attr.UID)
	e.U32(m.Attr.GID)
	e.U64(m.Attr.Size)
	m.Attr.Atime.encode(e)
	m.Attr.Mtime.encode(e)
}

// Decode implements Message.
func (m *SetStatReq) Decode(d *Decoder) {
	m.Node = d.U64()
	m.Attr.Mask, m.Attr.Mode = d.U32(), d.U32()
	m.Attr.UID, m.Attr.GID = d.U32(), d.U32()
	m.Attr.Size = d.U64()
	m.Attr.Atime.decode(d, true)
	m.Attr.Mtime.decode(d, true)
	if m.Attr.Mask&^SetStatAll != 0 || m.Attr.Mode&^0o7777 != 0 || m.Attr.Size > 1<<63-1 {
		d.Fail()
	}
}

// OpenFlags is the set of open(2) flags a client may pass to Open; the
// access mode is one of O_RDONLY, O_WRONLY, O_RDWR. Anything else
// (O_CREAT, O_PATH, O_NOFOLLOW, ...) is the server's business: EINVAL.
const OpenFlags = unix.O_ACCMODE | unix.O_TRUNC | unix.O_APPEND | unix.O_DIRECTORY

// CreateFlags is the set of flags a client may pass to Create; the server
// adds O_CREAT|O_EXCL|O_NOFOLLOW itself.
const CreateFlags = unix.O_ACCMODE | unix.O_TRUNC | unix.O_APPEND

// OpenReq opens Node; the reply donates one host FD.
type OpenReq struct {
	Node  uint64
	Flags uint32
}

// Encode implements Message.
func (m *OpenReq) Encode(e *Encoder) { e.U64(m.Node); e.U32(m.Flags) }

// Decode implements Message.
func (m *OpenReq) Decode(d *Decoder) { m.Node, m.Flags = d.U64(), d.U32() }

// CreateReq creates and opens regular file Name in Dir (O_CREAT|O_EXCL).
// The reply is a NodeResp and donates one host FD.
type CreateReq struct {
	Dir   uint64
	Name  string
	Flags uint32
	Mode  uint32
	UID   uint32
	GID   uint32
}

// Encode implements Message.
func (m *CreateReq) Encode(e *Encoder) {
	e.U64(m.Dir)
	e.String(m.Name)
	e.U32(m.Flags)
	e.U32(m.Mode)
	e.U32(m.UID)
	e.U32(m.GID)
}

// Decode implements Message.
func (m *CreateReq) Decode(d *Decoder) {
	m.Dir, m.Name = d.U64(), d.String(NameMax)
	m.Flags, m.Mode, m.UID, m.GID = d.U32(), d.U32(), d.U32(), d.U32()
}

// MkdirReq creates directory Name in Dir. Mknod uses the same layout, with
// the file type in Mode.
type MkdirReq struct {
	Dir  uint64
	Name string
	Mode uint32
	UID  uint32
	GID  uint32
}

// Encode implements Message.
func (m *MkdirReq) Encode(e *Encoder) {
	e.U64(m.Dir)
	e.String(m.Name)
	e.U32(m.Mode)
	e.U32(m.UID)
	e.U32(m.GID)
}

// Decode implements Message.
func (m *MkdirReq) Decode(d *Decoder) {
	m.Dir, m.Name = d.U64(), d.String(NameMax)
	m.Mode, m.UID, m.GID = d.U32(), d.U32(), d.U32()
}

// SymlinkReq creates symlink Name in Dir pointing at Target.
type SymlinkReq struct {
	Dir    uint64
	Name   string
	Target string
	UID    uint32
	GID    uint32
}

// Encode implements Message.
func (m *SymlinkReq) Encode(e *Encoder) {
	e.U64(m.Dir)
	e.String(m.Name)
	e.String(m.Target)
	e.U32(m.UID)
	e.U32(m.GID)
}

// Decode implements Message.
func (m *SymlinkReq) Decode(d *Decoder) {
	m.Dir, m.Name, m.Target = d.U64(), d.String(NameMax), d.String(SymlinkMax)
	m.UID, m.GID = d.U32(), d.U32()
}

// LinkReq creates hard link Name in Dir to node Target.
type LinkReq struct {
	Dir    uint64
	Name   string
	Target uint64
}

// Encode implements Message.
func (m *LinkReq) Encode(e *Encoder) { e.U64(m.Dir); e.String(m.Name); e.U64(m.Target) }

// Decode implements Message.
func (m *LinkReq) Decode(d *Decoder) { m.Dir, m.Name, m.Target = d.U64(), d.String(NameMax), d.U64() }

// NodeResp carries a new node (Create, Mkdir, Mknod, Symlink, Link).
type NodeResp struct{ Node NodeInfo }

// Encode implements Message.
func (m *NodeResp) Encode(e *Encoder) { m.Node.Encode(e) }

// Decode implements Message.
func (m *NodeResp) Decode(d *Decoder) { m.Node.Decode(d) }

// UnlinkReq removes Name from Dir; Flags is 0 or AT_REMOVEDIR.
type UnlinkReq struct {
	Dir   uint64
	Name  string
	Flags uint32
}

// Encode implements Message.
func (m *UnlinkReq) Encode(e *Encoder) { e.U64(m.Dir); e.String(m.Name); e.U32(m.Flags) }

// Decode implements Message.
func (m *UnlinkReq) Decode(d *Decoder) { m.Dir, m.Name, m.Flags = d.U64(), d.String(NameMax), d.U32() }

// RenameReq renames as renameat2(2); Flags may hold RENAME_NOREPLACE or
// RENAME_EXCHANGE.
type RenameReq struct {
	OldDir  uint64
	OldName string
	NewDir  uint64
	NewName string
	Flags   uint32
}

// Encode implements Message.
func (m *RenameReq) Encode(e *Encoder) {
	e.U64(m.OldDir)
	e.String(m.OldName)
	e.U64(m.NewDir)
	e.String(m.NewName)
	e.U32(m.Flags)
}

// Decode implements Message.
func (m *RenameReq) Decode(d *Decoder) {
	m.OldDir, m.OldName = d.U64(), d.String(NameMax)
	m.NewDir, m.NewName = d.U64(), d.String(NameMax)
	m.Flags = d.U32()
}

// ReadlinkResp carries a symlink target.
type ReadlinkResp struct{ Target string }

// Encode implements Message.
func (m *ReadlinkResp) Encode(e *Encoder) { e.String(m.Target) }

// Decode implements Message.
func (m *ReadlinkResp) Decode(d *Decoder) { m.Target = d.String(SymlinkMax) }

// GetdentsReq reads directory Node from Cookie (0 = start; then the Next of
// the previous reply).
type GetdentsReq struct {
	Node   uint64
	Cookie uint64
}

// Encode implements Message.
func (m *GetdentsReq) Encode(e *Encoder) { e.U64(m.Node); e.U64(m.Cookie) }

// Decode implements Message.
func (m *GetdentsReq) Decode(d *Decoder) { m.Node, m.Cookie = d.U64(), d.U64() }

// Dirent is one directory entry. "." and ".." are never sent.
type Dirent struct {
	Ino  uint64
	Type uint8 // DT_* value from getdents64(2)
	Name string
}

// DirentSize returns the encoded size of an entry named name.
func DirentSize(name string) int { return 8 + 1 + StringSize(name) }

// GetdentsResp is one page of a directory listing.
type GetdentsResp struct {
	Next    uint64 // cookie for the next request
	EOF     bool   // no entries follow
	Dirents []Dirent
}

// GetdentsRespOverhead is the encoded size of a GetdentsResp without entries.
const GetdentsRespOverhead = 8 + 1 + 4

// Encode implements Message.
func (m *GetdentsResp) Encode(e *Encoder) {
	e.U64(m.Next)
	if m.EOF {
		e.U8(1)
	} else {
		e.U8(0)
	}
	e.U32(uint32(len(m.Dirents)))
	for i := range m.Dirents {
		e.U64(m.Dirents[i].Ino)
		e.U8(m.Dirents[i].Type)
		e.String(m.Dirents[i].Name)
	}
}

// Decode implements Message.
func (m *GetdentsResp) Decode(d *Decoder) {
	m.Next = d.U64()
	switch d.U8() {
	case 0:
		m.EOF = false
	case 1:
		m.EOF = true
	default:
		d.Fail()
	}
	m.Dirents = make([]Dirent, d.Count(MaxMessageSize, 13))
	for i := range m.Dirents {
		m.Dirents[i].Ino = d.U64()
		m.Dirents[i].Type = d.U8()
		m.Dirents[i].Name = d.String(NameMax)
		if n := m.Dirents[i].Name; !ValidName(n) {
			d.Fail()
		}
	}
}

// StatFS is the result of statfs(2).
type StatFS struct {
	Type    uint64
	Bsize   uint64
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Namelen uint64
	Frsize  uint64
	Flags   uint64
}

// Encode implements Message.
func (s *StatFS) Encode(e *Encoder) {
	for _, v := range []uint64{s.Type, s.Bsize, s.Blocks, s.Bfree, s.Bavail, s.Files, s.Ffree, s.Namelen, s.Frsize, s.Flags} {
		e.U64(v)
	}
}

// Decode implements Message.
func (s *StatFS) Decode(d *Decoder) {
	for _, p := range []*uint64{&s.Type, &s.Bsize, &s.Blocks, &s.Bfree, &s.Bavail, &s.Files, &s.Ffree, &s.Namelen, &s.Frsize, &s.Flags} {
		*p = d.U64()
	}
}

// CloseReq releases node IDs.
type CloseReq struct{ Nodes []uint64 }

// Encode implements Message.
func (m *CloseReq) Encode(e *Encoder) {
	e.U32(uint32(len(m.Nodes)))
	for _, n := range m.Nodes {
		e.U64(n)
	}
}

// Decode implements Message.
func (m *CloseReq) Decode(d *Decoder) {
	m.Nodes = make([]uint64, d.Count(MaxCloseNodes, 8))
	for i := range m.Nodes {
		m.Nodes[i] = d.U64()
	}
}

// ValidName reports whether name is a single path component the server
// accepts: not empty, not "." or "..", no '/', at most NameMax bytes (NUL
// is already rejected by the decoder).
func ValidName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > NameMax {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return false
		}
	}
	return true
}

// NewRequest returns an empty request payload for type t, or nil if t is not
// a request type.
func NewRequest(t MsgType) Message {
	switch t {
	case MsgMount:
		return &MountReq{}
	case MsgWalk:
		return &WalkReq{}
	case MsgStat, MsgReadlink, MsgStatFS:
		return &NodeReq{}
	case MsgSetStat:
		return &SetStatReq{}
	case MsgOpen:
		return &OpenReq{}
	case MsgCreate:
		return &CreateReq{}
	case MsgMkdir, MsgMknod:
		return &MkdirReq{}
	case MsgSymlink:
		return &SymlinkReq{}
	case MsgLink:
		return &LinkReq{}
	case MsgUnlink:
		return &UnlinkReq{}
	case MsgRename:
		return &RenameReq{}
	case MsgGetdents:
		return &GetdentsReq{}
	case MsgClose:
		return &CloseReq{}
	}
	return nil
}

// NewReply returns an empty reply payload for request type t, or nil if t is
// not a request type.
func NewReply(t MsgType) Message {
	switch t {
	case MsgMount:
		return &MountResp{}
	case MsgWalk:
		return &WalkResp{}
	case MsgStat, MsgSetStat:
		return &StatResp{}
	case MsgOpen, MsgUnlink, MsgRename, MsgClose:
		return &Empty{}
	case MsgCreate, MsgMkdir, MsgMknod, MsgSymlink, MsgLink:
		return &NodeResp{}
	case MsgReadlink:
		return &ReadlinkResp{}
	case MsgGetdents:
		return &GetdentsResp{}
	case MsgStatFS:
		return &StatFS{}
	}
	return nil
}

// ReplyFDs is the number of host FDs a successful reply of type t donates.
func ReplyFDs(t MsgType) int {
	if t == MsgOpen || t == MsgCreate {
		return 1
	}
	return 0
}

// Marshal returns a packet: header h followed by the encoding of m.
func Marshal(h Header, m Message) []byte {
	e := Encoder{Buf: AppendHeader(make([]byte, 0, 256), h)}
	if m != nil {
		m.Encode(&e)
	}
	return e.Buf
}
