// Package kernel is the sentry's process model: the kernel object, thread
// groups, tasks and their run loop.
//
// Lock order: Kernel.mu before ThreadGroup.mu.
package kernel

import (
	"fmt"
	"sync"
	"time"

	"pangolin/fs/vfs"
	"pangolin/platform"
	"pangolin/sentry/arch"
	"pangolin/sentry/auth"
	"pangolin/sentry/ktime"
	"pangolin/sentry/limits"
	"pangolin/sentry/memfile"
	"pangolin/sentry/mm"
	"pangolin/sentry/vdso"
)

// Kernel is one sandbox's application kernel.
type Kernel struct {
	// Immutable after New.
	Platform platform.Platform
	MemFile  *memfile.File
	VFS      *vfs.VirtualFilesystem
	Syscalls *SyscallTable
	Debug    bool
	Strace   bool
	// Hostname and Domainname are what uname(2) reports: the sandbox's
	// UTS namespace. Read them with UTSNames; sethostname(2) changes them
	// through SetHostname/SetDomainname. Protected by utsMu after New.
	Hostname   string
	Domainname string
	utsMu      sync.Mutex
	// Boot is the sandbox's boot time (CLOCK_BOOTTIME origin).
	Boot time.Time
	// Time is the sandbox's clocks, which the vDSO reads too.
	Time *ktime.Clock
	// vdso is mapped into every new image; nil without a memory file.
	vdso *vdso.Image
	// MemoryLimit bounds app memory (0: none); HostMemory is the host's RAM.
	MemoryLimit, HostMemory uint64
	// Opener resolves executables for execve; set by the boot code.
	Opener ExecOpener

	// asyncMu protects async, the signal-driven I/O state of file
	// descriptions that have any (fasync.go). A leaf lock.
	asyncMu sync.Mutex
	async   map[*vfs.FileDescription]*fileAsync

	mu sync.Mutex
	// tasks maps TIDs to live tasks. Protected by mu.
	tasks map[int32]*Task
	// tgs maps PIDs to live and zombie thread groups; a PID is not reused
	// before its zombie is reaped. Protected by mu.
	tgs map[int32]*ThreadGroup
	// nextTID is the next TID to hand out. Protected by mu.
	nextTID int32
	// unknownSyscalls records which unimplemented numbers were logged.
	// Protected by mu.
	unknownSyscalls map[uintptr]bool

	// taskLimit bounds the live tasks (the container's pids limit); 0
	// means none. Set before the first task starts, then read-only.
	taskLimit int

	// futexes are the blocked futex waiters.
	futexes futexTable

	// ipc is the System V IPC namespace (task_ipc.go).
	ipc ipcState

	// initExited is closed when the init thread group has exited;
	// initStatus is its wait status. Written once before the close.
	initExited chan struct{}
	initStatus WaitStatus
	initTG     *ThreadGroup
}

// WaitStatus is an exit status in the form wait(2) reports it.
type WaitStatus struct {
	// Code is the exit code when Signal is 0.
	Code int
	// Signal is the terminating signal, or 0 for a normal exit.
	Signal int
	// CoreDumped is set for signals whose default action dumps core.
	CoreDumped bool
}

// ShellStatus returns the status a shell would report: the exit code, or
// 128+N for death by signal N.
func (w WaitStatus) ShellStatus() int {
	if w.Signal != 0 {
		return 128 + w.Signal
	}
	return w.Code
}

// Raw returns the wait(2) status word.
func (w WaitStatus) Raw() uint32 {
	if w.Signal != 0 {
		s := uint32(w.Signal)
		if w.CoreDumped {
			s |= 0x80
		}
		return s
	}
	return uint32(w.Code&0xff) << 8
}

// Config configures a new Kernel.
type Config struct {
	Platform platform.Platform
	MemFile  *memfile.File
	VFS      *vfs.VirtualFilesystem
	Syscalls *SyscallTable
	Debug    bool
	Strace   bool
	Hostname string
}

// New returns a kernel with no tasks. With a memory file it has a vDSO,
// whose data page holds the clocks; without one (tests) the clocks live in
// sentry memory.
func New(c Config) (*Kernel, error) {
	h := c.Hostname
	if h == "" {
		h = "pangolin"
	}
	k := &Kernel{
		Platform:        c.Platform,
		MemFile:         c.MemFile,
		VFS:             c.VFS,
		Syscalls:        c.Syscalls,
		Debug:           c.Debug,
		Strace:          c.Strace,
		Hostname:        h,
		Domainname:      "(none)",
		Boot:            time.Now(),
		tasks:           make(map[int32]*Task),
		tgs:             make(map[int32]*ThreadGroup),
		nextTID:         1,
		unknownSyscalls: make(map[uintptr]bool),
		initExited:      make(chan struct{}),
	}
	page := make([]byte, ktime.PageSize)
	if c.MemFile != nil {
		img, err := vdso.New(c.MemFile)
		if err != nil {
			return nil, err
		}
		k.vdso = img
		page = img.DataPage()
	}
	clock, err := ktime.New(page, k.Boot, arch.InvariantTSC())
	if err != nil {
		return nil, fmt.Errorf("clocks: %w", err)
	}
	k.Time = clock
	go clock.Run(nil)
	return k, nil
}

// mapVDSO maps the vDSO into a new image's address space (see
// loader.Args.MapVDSO).
func (k *Kernel) mapVDSO(m *mm.MemoryManager) (uintptr, error) {
	return k.vdso.Map(m)
}

// ExecOpener opens an executable on behalf of t (see loader.Opener).
type ExecOpener func(t *Task, path string) (ExecFile, error)

// InitArgs describe the sandbox's first process.
type InitArgs struct {
	Filename string
	Argv     []string
	Envv     []string
	Creds    *auth.Credentials
	FDTable  *vfs.FDTable
	FS       *vfs.FSContext
	Limits   *limits.LimitSet
}

// StartInit creates the init process (PID 1), loads its image and starts
// running it. Load errors (ENOENT, EACCES, ENOEXEC) are returned before
// anything runs.
func (k *Kernel) StartInit(a InitArgs) error {
	_, err := k.startProcess(a, true)
	return err
}

// startProcess creates a process with no parent that leads a new session
// and process group, loads its image and starts it; init marks it as the
// sandbox's PID 1. Load errors are returned before anything runs, and the
// process is then forgotten.
func (k *Kernel) startProcess(a InitArgs, init bool) (*ThreadGroup, error) {
	ls := a.Limits
	if ls == nil {
		ls = limits.NewDefault()
	}
	tg := newThreadGroup(nil, ls)
	t := &Task{
		k:           k,
		tg:          tg,
		fdTable:     a.FDTable,
		fsc:         a.FS,
		creds:       a.Creds,
		startTime:   time.Now(),
		interruptCh: make(chan struct{}, 1),
	}
	k.mu.Lock()
	t.tid = k.nextTID
	k.nextTID++
	tg.pid = t.tid
	tg.pgid, tg.sid = tg.pid, tg.pid
	tg.leader = t
	tg.tasks = 1
	k.tasks[t.tid] = t
	k.tgs[tg.pid] = tg
	if init {
		k.initTG = tg
	}
	k.mu.Unlock()

	errc := make(chan error, 1)
	go t.start(func() error {
		return t.execLocked(a.Filename, a.Argv, a.Envv)
	}, errc)
	if err := <-errc; err != nil {
		k.mu.Lock()
		delete(k.tgs, tg.pid)
		k.mu.Unlock()
		return nil, err
	}
	return tg, nil
}

// WaitInit blocks until the init process exits and returns its status.
func (k *Kernel) WaitInit() WaitStatus {
	<-k.initExited
	return k.initStatus
}

// TaskByTID returns the live task with the given TID, or nil.
func (k *Kernel) TaskByTID(tid int32) *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tasks[tid]
}

// Tasks returns the live tasks.
func (k *Kernel) Tasks() []*Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	ts := make([]*Task, 0, len(k.tasks))
	for _, t := range k.tasks {
		ts = append(ts, t)
	}
	return ts
}

// logUnknown logs an unimplemented syscall number once.
func (k *Kernel) logUnknown(t *Task, nr uintptr, name string) {
	k.mu.Lock()
	seen := k.unknownSyscalls[nr]
	k.unknownSyscalls[nr] = true
	k.mu.Unlock()
	if !seen {
		if name == "" {
			name = fmt.Sprintf("#%d", nr)
		}
		t.Warningf("unimplemented syscall %s (%d): returning ENOSYS", name, nr)
	}
}

// newMM creates an empty address space on the platform.
func (k *Kernel) newMM() (*mm.MemoryManager, error) {
	as, err := k.Platform.NewAddressSpace()
	if err != nil {
		return nil, fmt.Errorf("new address space: %w", err)
	}
	return mm.New(k.MemFile, as, k.Platform.MaxUserAddress()), nil
}

// UTSNames returns the hostname and domain name.
func (k *Kernel) UTSNames() (hostname, domainname string) {
	k.utsMu.Lock()
	defer k.utsMu.Unlock()
	return k.Hostname, k.Domainname
}

// SetHostname sets the sandbox's hostname (sethostname(2): its own UTS
// namespace; the host's is never touched).
func (k *Kernel) SetHostname(h string) {
	k.utsMu.Lock()
	k.Hostname = h
	k.utsMu.Unlock()
}

// SetDomainname sets the NIS domain name (setdomainname(2)).
func (k *Kernel) SetDomainname(d string) {
	k.utsMu.Lock()
	k.Domainname = d
	k.utsMu.Unlock()
}
