// Package proto defines the wire format of the Pangolin gofer protocol: the
// message types exchanged between the sentry (client) and the gofer (server),
// their encoding, the limits every peer enforces, and how errno values travel
// on the wire.
//
// Transport. One SOCK_SEQPACKET unix socket. Every message is exactly one
// packet: a 16-byte Header followed by a type-specific payload, little endian.
// Host file descriptors travel as SCM_RIGHTS ancillary data attached to the
// reply packet that donates them (Open and Create replies carry exactly one).
// Requests never carry file descriptors.
//
// Requests and replies are matched by Header.ID, chosen by the client, so a
// client may keep many requests outstanding and the server may answer them in
// any order. A reply has the type of its request with ReplyBit set. A failed
// request is answered by a reply with a non-zero Header.Errno and an empty
// payload.
//
// The first request on a connection must be Mount, which negotiates the
// protocol version and returns the root node. See ../README.md for the
// semantics of every message.
package proto

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Version is the protocol version this package speaks. Mount negotiates
// min(client, server); a server refuses versions below MinVersion with
// EPROTONOSUPPORT.
const (
	Version    = 1
	MinVersion = 1
)

// Limits enforced by both peers. A message that violates one is malformed.
const (
	// MaxMessageSize bounds a packet, header included. It is well below the
	// default unix socket send buffer (net.core.wmem_default, 208 KiB), which
	// bounds the size of a SOCK_SEQPACKET datagram (EMSGSIZE above it).
	MaxMessageSize = 64 << 10

	// NameMax is the longest path component, as Linux NAME_MAX.
	NameMax = 255

	// SymlinkMax is the longest symlink target: Linux PATH_MAX (4096)
	// including the terminating NUL.
	SymlinkMax = 4095

	// MaxWalkNames bounds the components of one Walk request; clients split
	// longer walks. 64 replies of NodeInfoSize fit easily in MaxMessageSize.
	MaxWalkNames = 64

	// MaxCloseNodes bounds the IDs of one Close request.
	MaxCloseNodes = 1024

	// MaxErrno is the largest valid errno value (Linux MAX_ERRNO).
	MaxErrno = 4095
)

// MsgType identifies a request; its reply carries MsgType|ReplyBit.
type MsgType uint16

// Message types. Values are part of the wire format: never renumber.
const (
	MsgMount    MsgType = 1
	MsgWalk     MsgType = 2
	MsgStat     MsgType = 3
	MsgSetStat  MsgType = 4
	MsgOpen     MsgType = 5
	MsgCreate   MsgType = 6
	MsgMkdir    MsgType = 7
	MsgMknod    MsgType = 8
	MsgSymlink  MsgType = 9
	MsgLink     MsgType = 10
	MsgUnlink   MsgType = 11
	MsgRename   MsgType = 12
	MsgReadlink MsgType = 13
	MsgGetdents MsgType = 14
	MsgStatFS   MsgType = 15
	MsgClose    MsgType = 16

	// ReplyBit is set in the type of every reply.
	ReplyBit MsgType = 0x8000
)

var msgNames = map[MsgType]string{
	MsgMount: "mount", MsgWalk: "walk", MsgStat: "stat", MsgSetStat: "setstat",
	MsgOpen: "open", MsgCreate: "create", MsgMkdir: "mkdir", MsgMknod: "mknod",
	MsgSymlink: "symlink", MsgLink: "link", MsgUnlink: "unlink", MsgRename: "rename",
	MsgReadlink: "readlink", MsgGetdents: "getdents", MsgStatFS: "statfs", MsgClose: "close",
}

// String returns the lower-case name of the message type.
func (t MsgType) String() string {
	if n, ok := msgNames[t&^ReplyBit]; ok {
		if t&ReplyBit != 0 {
			return n + "-reply"
		}
		return n
	}
	return "unknown"
}

// HeaderSize is the encoded size of Header.
const HeaderSize = 16

// Header starts every packet.
type Header struct {
	// ID matches a reply to its request. Chosen by the client.
	ID uint64
	// Type is the message type; ReplyBit is set in replies.
	Type MsgType
	// Flags is reserved and must be zero.
	Flags uint16
	// Errno is zero in requests and successful replies, and a Linux errno
	// value (1..MaxErrno) in failed replies.
	Errno uint32
}

// AppendHeader appends the encoding of h to b.
func AppendHeader(b []byte, h Header) []byte {
	b = binary.LittleEndian.AppendUint64(b, h.ID)
	b = binary.LittleEndian.AppendUint16(b, uint16(h.Type))
	b = binary.LittleEndian.AppendUint16(b, h.Flags)
	return binary.LittleEndian.AppendUint32(b, h.Errno)
}

// DecodeHeader splits a packet into its header and payload. It only checks
// the length; callers validate Type, Flags and Errno for their direction.
func DecodeHeader(b []byte) (Header, []byte, error) {
	if len(b) < HeaderSize {
		return Header{}, nil, unix.EINVAL
	}
	h := Header{
		ID:    binary.LittleEndian.Uint64(b[0:]),
		Type:  MsgType(binary.LittleEndian.Uint16(b[8:])),
		Flags: binary.LittleEndian.Uint16(b[10:]),
		Errno: binary.LittleEndian.Uint32(b[12:]),
	}
	return h, b[HeaderSize:], nil
}
