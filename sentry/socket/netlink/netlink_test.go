package netlink

import (
	"testing"

	sys "golang.org/x/sys/unix"

	"pangolin/sentry/socket"
)

func TestAddr(t *testing.T) {
	b := encodeAddr(-4096, 5)
	port, groups, err := parseAddr(b)
	if err != nil || port != -4096 || groups != 5 {
		t.Fatalf("parseAddr(encodeAddr) = %d, %d, %v", port, groups, err)
	}
	for _, bad := range [][]byte{nil, b[:8], {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, _, err := parseAddr(bad); err != sys.EINVAL {
			t.Errorf("parseAddr(%x) = %v, want EINVAL", bad, err)
		}
	}
}

func TestMsgBuilder(t *testing.T) {
	m := newMsg(rtmNewLink, nlmFMulti, 7, 9, make([]byte, 16))
	m.str(iflaIfname, "lo")
	m.u32(iflaMTU, 65536)
	b := m.done()
	if len(b) != 16+16+8+8 || le.Uint32(b) != uint32(len(b)) || le.Uint16(b[4:]) != rtmNewLink ||
		le.Uint16(b[6:]) != nlmFMulti || le.Uint32(b[8:]) != 7 || le.Uint32(b[12:]) != 9 {
		t.Fatalf("message %x", b)
	}
	r := &request{msg: b}
	attrs := r.attrs(16)
	if string(attrs[iflaIfname]) != "lo\x00" || le.Uint32(attrs[iflaMTU]) != 65536 {
		t.Errorf("attrs %v", attrs)
	}
}

func TestDumpDatagrams(t *testing.T) {
	s := &sock{opts: socket.NewOptions()}
	r := &request{s: s, h: header{seq: 3}, port: 11}
	var msgs [][]byte
	for i := 0; i < 100; i++ {
		msgs = append(msgs, newMsg(rtmNewAddr, nlmFMulti, 3, 11, make([]byte, 100)).done())
	}
	dg := r.dumpDatagrams(msgs)
	total := 0
	for _, d := range dg {
		if len(d) > nlmsgGoodSize {
			t.Errorf("datagram of %d bytes", len(d))
		}
		total += len(d)
	}
	last := dg[len(dg)-1]
	done := last[len(last)-20:]
	if le.Uint16(done[4:]) != nlmsgDone || total != 100*116+20 {
		t.Errorf("dump: %d datagrams, %d bytes, last message type %d", len(dg), total, le.Uint16(done[4:]))
	}
}
