package proto

import (
	"encoding/binary"
	"strings"

	"golang.org/x/sys/unix"
)

// Encoder appends little-endian fields to a buffer.
type Encoder struct {
	Buf []byte
}

// U8 appends v.
func (e *Encoder) U8(v uint8) { e.Buf = append(e.Buf, v) }

// U16 appends v.
func (e *Encoder) U16(v uint16) { e.Buf = binary.LittleEndian.AppendUint16(e.Buf, v) }

// U32 appends v.
func (e *Encoder) U32(v uint32) { e.Buf = binary.LittleEndian.AppendUint32(e.Buf, v) }

// U64 appends v.
func (e *Encoder) U64(v uint64) { e.Buf = binary.LittleEndian.AppendUint64(e.Buf, v) }

// I64 appends v.
func (e *Encoder) I64(v int64) { e.U64(uint64(v)) }

// String appends a u32 length followed by the bytes of s.
func (e *Encoder) String(s string) {
	e.U32(uint32(len(s)))
	e.Buf = append(e.Buf, s...)
}

// StringSize is the encoded size of s.
func StringSize(s string) int { return 4 + len(s) }

// Decoder reads little-endian fields from untrusted input. Reads past the
// end, over-long strings and impossible counts latch a failure instead of
// panicking or allocating; Finish reports it. After a failure every read
// returns a zero value.
type Decoder struct {
	buf    []byte
	failed bool
}

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

func (d *Decoder) take(n int) []byte {
	if d.failed || n < 0 || len(d.buf) < n {
		d.failed = true
		return nil
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b
}

// U8 reads a byte.
func (d *Decoder) U8() uint8 {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

// U16 reads a u16.
func (d *Decoder) U16() uint16 {
	if b := d.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

// U32 reads a u32.
func (d *Decoder) U32() uint32 {
	if b := d.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

// U64 reads a u64.
func (d *Decoder) U64() uint64 {
	if b := d.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// I64 reads an i64.
func (d *Decoder) I64() int64 { return int64(d.U64()) }

// String reads a string of at most max bytes. Strings never contain NUL:
// they become C strings on the server, where a NUL would silently truncate.
func (d *Decoder) String(max int) string {
	n := d.U32()
	if uint64(n) > uint64(max) {
		d.failed = true
		return ""
	}
	b := d.take(int(n))
	if b == nil {
		return ""
	}
	s := string(b)
	if strings.IndexByte(s, 0) >= 0 {
		d.failed = true
		return ""
	}
	return s
}

// Count reads a u32 element count of at most max, each element encoding to
// at least minSize bytes. Checking the count against the bytes that remain
// bounds the allocation a hostile peer can cause to the packet size.
func (d *Decoder) Count(max, minSize int) int {
	n := d.U32()
	if d.failed || uint64(n) > uint64(max) || uint64(n)*uint64(minSize) > uint64(len(d.buf)) {
		d.failed = true
		return 0
	}
	return int(n)
}

// Fail marks the input malformed (used for semantic checks while decoding).
func (d *Decoder) Fail() { d.failed = true }

// Finish returns EINVAL if any read failed or input remains.
func (d *Decoder) Finish() error {
	if d.failed || len(d.buf) != 0 {
		return unix.EINVAL
	}
	return nil
}
