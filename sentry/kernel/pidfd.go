package kernel

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
)

// PidFD is the file behind a pidfd (kernel/pid.c pidfd_fops): it refers
// to a process, becomes readable when the process exits (pidfd_poll()),
// and is what pidfd_send_signal(2), waitid(P_PIDFD) and pidfd_getfd(2)
// take.
type PidFD struct {
	vfs.FileDefaults
	// tg is the process. Immutable.
	tg *ThreadGroup
}

// NewPidFD returns an open pidfd description for tg with the given status
// flags (O_RDWR, plus O_NONBLOCK for PIDFD_NONBLOCK).
func NewPidFD(tg *ThreadGroup, flags uint32) *vfs.FileDescription {
	return vfs.NewAnonFile(&PidFD{tg: tg}, flags|unix.O_RDWR, vfs.FileOptions{Positionless: true, NoPRead: true})
}

// ThreadGroup returns the process the pidfd refers to.
func (p *PidFD) ThreadGroup() *ThreadGroup { return p.tg }

// Read fails: a pidfd has no data (EINVAL from the missing read op).
func (p *PidFD) Read(vfs.Context, *vfs.FileDescription, []byte, int64) (int, error) {
	return 0, unix.EINVAL
}

// Name implements vfs.Namer.
func (p *PidFD) Name() string { return "anon_inode:[pidfd]" }

// Stat implements vfs.FileStater: an anonymous inode (mode 0600, no type
// bits, as anon_inode_getfile() makes it).
func (p *PidFD) Stat() (vfs.Stat, error) {
	return vfs.Stat{Mode: 0o600, Nlink: 1, Blksize: 4096, Dev: anonInodeDev}, nil
}

// SetStat implements vfs.FileStater.
func (p *PidFD) SetStat(vfs.Context, vfs.SetStat) error { return unix.EPERM }

// anonInodeDev is the st_dev of anonymous-inode files (anon_inodefs).
var anonInodeDev = unix.Mkdev(0, 14)

// Readiness implements waiter.Waitable: readable once the whole process has
// exited.
func (p *PidFD) Readiness(mask waiter.EventMask) waiter.EventMask {
	k := p.tg.leader.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if p.tg.zombie || k.tgs[p.tg.pid] != p.tg {
		return mask & waiter.ReadableEvents
	}
	return 0
}

// EventRegister implements waiter.Waitable.
func (p *PidFD) EventRegister(e *waiter.Entry) error {
	p.tg.exitEvents.EventRegister(e)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (p *PidFD) EventUnregister(e *waiter.Entry) { p.tg.exitEvents.EventUnregister(e) }

// HasExited reports whether tg has exited (it is a zombie or reaped).
func (tg *ThreadGroup) HasExited() bool {
	k := tg.leader.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return tg.zombie || k.tgs[tg.pid] != tg
}
