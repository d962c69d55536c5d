package socket

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/kernel"
)

// Context is the calling task as socket operations see it.
type Context interface {
	// vfs.Context gives credentials, interruption and app memory.
	vfs.Context
	// VFS and FSContext resolve socket paths (AF_UNIX bind/connect).
	VFS() *vfs.VirtualFilesystem
	FSContext() *vfs.FSContext
	// Stack is the caller's network namespace.
	Stack() *Stack
	// PID is the caller's thread group ID in its PID namespace
	// (SCM_CREDENTIALS, SO_PEERCRED).
	PID() int32
	// PIDExists reports whether pid names a live task (find_get_pid()).
	PIDExists(pid int32) bool
	// SendSIGPIPE sends SIGPIPE to the caller, as a stream write to a
	// closed connection does (send_sig(SIGPIPE, current, 0)).
	SendSIGPIPE()
	// GetFile returns the open file for descriptor fd with a reference,
	// or EBADF; O_PATH files count (fget_raw(), for SCM_RIGHTS).
	GetFile(fd int32) (*vfs.FileDescription, error)
}

// Stack is one network namespace's socket state: the socket inode
// numbers and device, and each family's per-namespace state (AF_UNIX's
// abstract names; netstack's tcpip.Stack later).
type Stack struct {
	// dev is st_dev of socket files (sockfs). Immutable.
	dev uint64
	// nextIno allocates socket inode numbers (get_next_ino()).
	nextIno atomic.Uint64

	mu sync.Mutex
	// families holds per-family state, created on first use. Protected
	// by mu.
	families map[int]any
}

// sockfs is the pseudo filesystem socket files nominally live in: it
// only provides their st_dev.
type sockfs struct{}

// Name implements vfs.FilesystemImpl.
func (sockfs) Name() string { return "sockfs" }

// Statfs implements vfs.FilesystemImpl (SOCKFS_MAGIC).
func (sockfs) Statfs() (vfs.Statfs, error) {
	return vfs.Statfs{Type: 0x534F434B, Bsize: 4096, Frsize: 4096, Namelen: 255}, nil
}

// NewStack returns the socket state of a new network namespace whose
// socket files get a device number from v.
func NewStack(v *vfs.VirtualFilesystem) *Stack {
	s := &Stack{families: make(map[int]any)}
	if fs, err := v.NewFilesystem(sockfs{}, vfs.NewStaticDir(1, 0o555, nil)); err == nil {
		s.dev = fs.Dev()
	}
	return s
}

// State returns family's per-namespace state, creating it with mk on
// first use.
func (s *Stack) State(family int, mk func() any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.families[family]
	if !ok {
		st = mk()
		s.families[family] = st
	}
	return st
}

// newIno returns a fresh socket inode number.
func (s *Stack) newIno() uint64 { return s.nextIno.Add(1) }

// stacks maps each kernel to its (single) network namespace's Stack. A
// sentry runs one kernel; tests may run several.
var stacks sync.Map // *kernel.Kernel → *Stack

// StackOf returns the socket state of k's network namespace (boot uses it
// to configure the namespace's network before the first socket exists).
func StackOf(k *kernel.Kernel) *Stack { return stackOf(k) }

// stackOf returns k's Stack.
func stackOf(k *kernel.Kernel) *Stack {
	if s, ok := stacks.Load(k); ok {
		return s.(*Stack)
	}
	s, _ := stacks.LoadOrStore(k, NewStack(k.VFS))
	return s.(*Stack)
}

// taskContext adapts a task to Context.
type taskContext struct{ *kernel.Task }

// TaskContext returns t as a socket Context.
func TaskContext(t *kernel.Task) Context { return taskContext{t} }

// Stack implements Context.
func (c taskContext) Stack() *Stack { return stackOf(c.Kernel()) }

// PID implements Context.
func (c taskContext) PID() int32 { return c.ThreadGroup().PID() }

// PIDExists implements Context.
func (c taskContext) PIDExists(pid int32) bool { return c.Kernel().TaskByTID(pid) != nil }

// SendSIGPIPE implements Context.
func (c taskContext) SendSIGPIPE() {
	c.SendThreadSignal(kernel.SigInfo{Signo: int(unix.SIGPIPE), Code: kernel.SIUser, PID: c.PID(), UID: c.Credentials().RealUID})
}

// GetFile implements Context.
func (c taskContext) GetFile(fd int32) (*vfs.FileDescription, error) {
	f, _, err := c.FDTable().Get(fd)
	return f, err
}

// contextOf returns the socket Context behind a file operation's
// context: file reads and writes come from tasks.
func contextOf(ctx vfs.Context) (Context, bool) {
	switch c := ctx.(type) {
	case Context:
		return c, true
	case *kernel.Task:
		return TaskContext(c), true
	}
	return nil, false
}
