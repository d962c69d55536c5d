package client_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/gofer/client"
	"pangolin/gofer/proto"
)

// fake is a scripted (and misbehaving) server: it answers Mount properly
// and every other request with whatever reply returns.
type fake struct {
	fd    int
	reply func(h proto.Header, payload []byte) (pkt []byte, fds []int)
}

func (f *fake) serve() {
	defer unix.Close(f.fd)
	buf := make([]byte, proto.MaxMessageSize+1)
	for {
		n, _, _, _, err := unix.Recvmsg(f.fd, buf, nil, 0)
		if err != nil || n == 0 {
			return
		}
		h, payload, err := proto.DecodeHeader(buf[:n])
		if err != nil {
			return
		}
		var pkt []byte
		var fds []int
		if h.Type == proto.MsgMount {
			pkt = proto.Marshal(proto.Header{ID: h.ID, Type: h.Type | proto.ReplyBit}, &proto.MountResp{
				Version: proto.Version,
				Root:    proto.NodeInfo{ID: 1, Stat: proto.Stat{Mode: unix.S_IFDIR | 0o755}},
			})
		} else {
			pkt, fds = f.reply(h, payload)
		}
		if pkt == nil {
			return // hang up
		}
		var oob []byte
		if len(fds) > 0 {
			oob = unix.UnixRights(fds...)
		}
		unix.Sendmsg(f.fd, pkt, oob, nil, 0)
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
}

func newFake(t testing.TB, reply func(h proto.Header, payload []byte) ([]byte, []int)) *client.Client {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&fake{fd: fds[1], reply: reply}).serve()
	}()
	c, err := client.New(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return c
}

// answer builds a reply packet to h.
func answer(h proto.Header, errno uint32, m proto.Message) []byte {
	return proto.Marshal(proto.Header{ID: h.ID, Type: h.Type | proto.ReplyBit, Errno: errno}, m)
}

func devNull(t testing.TB) int {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func countFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func wantMalformed(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, client.ErrMalformed) || !errors.Is(err, unix.EIO) {
		t.Errorf("%s: %v, want ErrMalformed/EIO", what, err)
	}
}

// TestMalformedReplies: each bad reply fails its own call with EIO and
// leaves the connection usable; donated FDs that come with it are closed.
func TestMalformedReplies(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply func(t *testing.T, h proto.Header) ([]byte, []int)
		call  func(c *client.Client) error
	}{
		{"short payload", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 0, &proto.NodeReq{Node: 1}), nil
		}, stat},
		{"trailing bytes", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return append(answer(h, 0, &proto.StatResp{}), 1), nil
		}, stat},
		{"wrong type", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return proto.Marshal(proto.Header{ID: h.ID, Type: proto.MsgWalk | proto.ReplyBit}, &proto.StatResp{}), nil
		}, stat},
		{"no reply bit", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return proto.Marshal(proto.Header{ID: h.ID, Type: h.Type}, &proto.StatResp{}), nil
		}, stat},
		{"errno out of range", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 5000, nil), nil
		}, stat},
		{"error with payload", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, uint32(unix.ENOENT), &proto.StatResp{}), nil
		}, stat},
		{"stat with FD", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 0, &proto.StatResp{}), []int{devNull(t)}
		}, stat},
		{"open without FD", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 0, &proto.Empty{}), nil
		}, open},
		{"open with two FDs", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 0, &proto.Empty{}), []int{devNull(t), devNull(t)}
		}, open},
		{"walk too many nodes", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 0, &proto.WalkResp{Nodes: make([]proto.NodeInfo, 3)}), nil
		}, walk},
		{"walk errno with all nodes", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 0, &proto.WalkResp{Errno: uint32(unix.ENOENT), Nodes: make([]proto.NodeInfo, 2)}), nil
		}, walk},
		{"walk short without symlink", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 0, &proto.WalkResp{Nodes: make([]proto.NodeInfo, 1)}), nil
		}, walk},
		{"getdents no progress", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 0, &proto.GetdentsResp{Next: 5}), nil
		}, func(c *client.Client) error { _, err := c.Getdents(c.Root()); return err }},
		{"getdents cookie loop", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 0, &proto.GetdentsResp{Next: 0, Dirents: []proto.Dirent{{Name: "a"}}}), nil
		}, func(c *client.Client) error { _, err := c.Getdents(c.Root()); return err }},
		{"mkdir bad nsec", func(t *testing.T, h proto.Header) ([]byte, []int) {
			return answer(h, 0, &proto.NodeResp{Node: proto.NodeInfo{Stat: proto.Stat{Mtime: proto.Timespec{Nsec: -1}}}}), nil
		}, func(c *client.Client) error { _, err := c.Mkdir(c.Root(), "d", 0o755, 0, 0); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := true
			c := newFake(t, func(h proto.Header, _ []byte) ([]byte, []int) {
				if bad {
					bad = false
					return tc.reply(t, h)
				}
				switch h.Type {
				case proto.MsgStat:
					return answer(h, 0, &proto.StatResp{Stat: proto.Stat{Ino: 77}}), nil
				}
				return answer(h, uint32(unix.ENOSYS), nil), nil
			})
			before := countFDs(t)
			wantMalformed(t, tc.name, tc.call(c))
			// The connection survives, and no donated FD leaked.
			st, err := c.Stat(c.Root())
			if err != nil || st.Ino != 77 {
				t.Errorf("stat after malformed reply: %+v, %v", st, err)
			}
			if after := countFDs(t); after != before {
				t.Errorf("FDs: %d before, %d after", before, after)
			}
		})
	}
}

func stat(c *client.Client) error { _, err := c.Stat(c.Root()); return err }

func open(c *client.Client) error {
	fd, err := c.Open(c.Root(), unix.O_RDONLY)
	if fd >= 0 {
		unix.Close(fd)
	}
	return err
}

func walk(c *client.Client) error {
	_, err := c.Walk(c.Root(), []string{"a", "b"})
	return err
}

// TestBrokenStream: a packet without a whole header cannot be routed, so the
// connection is torn down; the waiting call and all later ones fail.
func TestBrokenStream(t *testing.T) {
	c := newFake(t, func(h proto.Header, _ []byte) ([]byte, []int) { return []byte{1, 2, 3}, nil })
	wantMalformed(t, "stat", stat(c))
	wantMalformed(t, "stat again", stat(c))
}

// TestStrayReply: replies to IDs nobody waits for are dropped.
func TestStrayReply(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := fds[1]
	go (&fake{fd: srv, reply: func(h proto.Header, _ []byte) ([]byte, []int) {
		stray := answer(proto.Header{ID: h.ID + 1000, Type: h.Type}, 0, &proto.StatResp{})
		unix.Sendmsg(srv, stray, unix.UnixRights(devNull(t)), nil, 0)
		return answer(h, 0, &proto.StatResp{Stat: proto.Stat{Ino: 5}}), nil
	}}).serve()
	c, err := client.New(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, err := c.Stat(c.Root()); err != nil || st.Ino != 5 {
		t.Errorf("stat: %+v %v", st, err)
	}
}

// TestServerHangup: outstanding and later calls fail with EIO.
func TestServerHangup(t *testing.T) {
	release := make(chan struct{})
	c := newFake(t, func(h proto.Header, _ []byte) ([]byte, []int) {
		<-release
		return nil, nil // hang up without answering
	})
	errc := make(chan error, 1)
	go func() { errc <- stat(c) }()
	time.Sleep(10 * time.Millisecond)
	close(release)
	select {
	case err := <-errc:
		if !errors.Is(err, unix.EIO) || !errors.Is(err, client.ErrDisconnected) {
			t.Errorf("outstanding call: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("outstanding call hangs after server hangup")
	}
	if err := stat(c); !errors.Is(err, unix.EIO) {
		t.Errorf("later call: %v", err)
	}
}

func TestClose(t *testing.T) {
	c := newFake(t, func(h proto.Header, _ []byte) ([]byte, []int) { return answer(h, 0, &proto.StatResp{}), nil })
	if err := stat(c); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c.Close()
	if err := stat(c); !errors.Is(err, client.ErrClosed) || !errors.Is(err, unix.EBADF) {
		t.Errorf("stat after Close: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	// Not a SOCK_SEQPACKET socket.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	if _, err := client.New(fds[0]); !errors.Is(err, unix.EINVAL) {
		t.Errorf("New(stream socket): %v", err)
	}
	// Server refuses the version.
	fds, err = unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	refuser := fds[1]
	go func() {
		buf := make([]byte, 1024)
		n, _, _, _, _ := unix.Recvmsg(refuser, buf, nil, 0)
		h, _, _ := proto.DecodeHeader(buf[:max(n, 0)])
		unix.Sendmsg(refuser, answer(h, uint32(unix.EPROTONOSUPPORT), nil), nil, nil, 0)
		unix.Close(refuser)
	}()
	if _, err := client.New(fds[0]); !errors.Is(err, unix.EPROTONOSUPPORT) {
		t.Errorf("New against refusing server: %v", err)
	}
	// Server dies before answering.
	fds, err = unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fds[1])
	if _, err := client.New(fds[0]); !errors.Is(err, unix.EIO) {
		t.Errorf("New against dead server: %v", err)
	}
}

// FuzzReply answers a request with an arbitrary payload, errno and FD
// count: the client must return (an error or a value), never panic or hang,
// and never leak a donated FD on error.
func FuzzReply(f *testing.F) {
	f.Add(uint8(0), uint32(0), uint8(0), []byte{})
	f.Add(uint8(1), uint32(0), uint8(1), []byte{})
	f.Add(uint8(2), uint32(0), uint8(0), make([]byte, proto.StatSize))
	f.Add(uint8(3), uint32(2), uint8(0), []byte{})
	f.Add(uint8(4), uint32(0), uint8(0), []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(5), uint32(0), uint8(0), []byte{4, 0, 0, 0, 'a', 'b', 'c', 'd'})
	f.Add(uint8(6), uint32(0), uint8(3), []byte{0})
	f.Fuzz(func(t *testing.T, op uint8, errno uint32, nfds uint8, payload []byte) {
		if len(payload) > proto.MaxMessageSize-proto.HeaderSize {
			return
		}
		c := newFake(t, func(h proto.Header, _ []byte) ([]byte, []int) {
			pkt := append(proto.AppendHeader(nil, proto.Header{ID: h.ID, Type: h.Type | proto.ReplyBit, Errno: errno}), payload...)
			var fds []int
			for i := 0; i < int(nfds%4); i++ {
				fds = append(fds, devNull(t))
			}
			return pkt, fds
		})
		done := make(chan struct{})
		go func() {
			defer close(done)
			switch op % 7 {
			case 0:
				stat(c)
			case 1:
				open(c)
			case 2:
				walk(c)
			case 3:
				_, fd, _ := c.Create(c.Root(), "x", unix.O_RDWR, 0o644, 0, 0)
				if fd >= 0 {
					unix.Close(fd)
				}
			case 4:
				c.Getdents(c.Root())
			case 5:
				c.Readlink(c.Root())
			case 6:
				c.StatFS(c.Root())
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("client hangs on reply")
		}
	})
}
