package proc

import (
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/socket"
	"pangolin/sentry/socket/netstack"
)

// newNetDir builds /proc/net (in Linux a link to self/net; every task of
// a sandbox shares its one network namespace): the socket tables and
// interface files that ss, netstat, ifconfig and language runtimes read,
// generated from the namespace's netstack.
func (fs *Filesystem) newNetDir() vfs.Inode {
	stack := func() *netstack.Stack { return netstack.Of(socket.StackOf(fs.k)) }
	f := func(name string, gen func(*netstack.Stack) []byte) dirEntry {
		file := fs.newFile(fs.ino(), 0o444, nil, func(vfs.Context) ([]byte, error) { return gen(stack()), nil })
		file.writeErr = unix.EIO
		return dirEntry{name, file}
	}
	return fs.newStaticDir([]dirEntry{
		f("dev", (*netstack.Stack).ProcNetDev),
		f("if_inet6", (*netstack.Stack).ProcNetIfInet6),
		f("route", (*netstack.Stack).ProcNetRoute),
		f("tcp", func(s *netstack.Stack) []byte { return s.ProcNetTCP(false) }),
		f("tcp6", func(s *netstack.Stack) []byte { return s.ProcNetTCP(true) }),
		f("udp", func(s *netstack.Stack) []byte { return s.ProcNetUDP(false) }),
		f("udp6", func(s *netstack.Stack) []byte { return s.ProcNetUDP(true) }),
	})
}

// netSysctls are /proc/sys/net's files: the values the sockets layer and
// netstack are set up with (sentry/socket, sentry/socket/netstack).
func (fs *Filesystem) netSysctls(f func(string, uint32, genFunc) dirEntry, dir func(string, ...dirEntry) dirEntry) dirEntry {
	val := func(format string, args ...any) genFunc {
		s := fmt.Sprintf(format, args...) + "\n"
		return func(vfs.Context) ([]byte, error) { return []byte(s), nil }
	}
	rw := uint32(0o644)
	ipv6conf := func(name string) dirEntry {
		return dir(name, f("disable_ipv6", rw, val("0")), f("forwarding", rw, val("0")), f("hop_limit", rw, val("%d", netstack.DefaultTTL)))
	}
	return dir("net",
		dir("core",
			f("optmem_max", rw, val("%d", socket.OptMemMax)),
			f("rmem_default", rw, val("%d", socket.DefaultBufSize)),
			f("rmem_max", rw, val("%d", socket.MaxBufSize)),
			f("somaxconn", rw, val("%d", socket.Somaxconn)),
			f("wmem_default", rw, val("%d", socket.DefaultBufSize)),
			f("wmem_max", rw, val("%d", socket.MaxBufSize)),
		),
		dir("ipv4",
			f("ip_default_ttl", rw, val("%d", netstack.DefaultTTL)),
			f("ip_forward", rw, val("0")),
			f("ip_local_port_range", rw, val("%d\t%d", netstack.PortRangeLo, netstack.PortRangeHi)),
			f("ip_unprivileged_port_start", rw, val("1024")),
			f("ping_group_range", rw, val("%d\t%d", netstack.PingGroupRange[0], netstack.PingGroupRange[1])),
			f("tcp_allowed_congestion_control", rw, val("reno cubic")),
			f("tcp_available_congestion_control", 0o444, val("reno cubic")),
			f("tcp_congestion_control", rw, val("cubic")),
			// netstack has neither ECN nor TCP Fast Open.
			f("tcp_ecn", rw, val("0")),
			f("tcp_fastopen", rw, val("0")),
			f("tcp_fin_timeout", rw, val("60")),
			f("tcp_keepalive_intvl", rw, val("75")),
			f("tcp_keepalive_probes", rw, val("9")),
			f("tcp_keepalive_time", rw, val("7200")),
			f("tcp_rmem", rw, val("%d\t%d\t%d", netstack.TCPRmem[0], netstack.TCPRmem[1], netstack.TCPRmem[2])),
			f("tcp_sack", rw, val("1")),
			f("tcp_syn_retries", rw, val("6")),
			f("tcp_timestamps", rw, val("1")),
			f("tcp_window_scaling", rw, val("1")),
			f("tcp_wmem", rw, val("%d\t%d\t%d", netstack.TCPWmem[0], netstack.TCPWmem[1], netstack.TCPWmem[2])),
		),
		dir("ipv6",
			dir("conf", ipv6conf("all"), ipv6conf("default")),
		),
	)
}
