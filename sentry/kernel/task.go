package kernel

import (
	"sync/atomic"
	"time"

	"fmt"
	"log"

	"pangolin/fs/vfs"
	"pangolin/platform"
	"pangolin/sentry/arch"
	"pangolin/sentry/auth"
	"pangolin/sentry/limits"
	"pangolin/sentry/mm"
)

const pageSize = 4096

// Task is one thread of an application (struct task_struct).
//
// Fields without a note are owned by the task goroutine: only it reads or
// writes them.
type Task struct {
	k  *Kernel
	tg *ThreadGroup

	// tid is the thread ID. Immutable, except that a thread running
	// execve in a multi-threaded process takes over the leader's TID
	// (de_thread()); that write happens with Kernel.mu held while no other
	// thread of the group is alive.
	tid int32

	regs arch.Registers
	pctx platform.Context

	mm      *mm.MemoryManager
	fdTable *vfs.FDTable
	fsc     *vfs.FSContext

	// creds is replaced, never mutated (see auth.Credentials).
	creds *auth.Credentials

	// clearChildTID is set_tid_address(2)'s address.
	clearChildTID uintptr

	// robustList and robustListLen are set_robust_list(2)'s arguments.
	robustList    uintptr
	robustListLen uint64

	// sigMask is the blocked signal set (rt_sigprocmask). Written only by
	// the task goroutine, with tg.mu held; read under tg.mu by senders.
	sigMask uint64

	// savedMask is restored after the next handler frame is set up (or
	// at once if no handler runs): sigsuspend's temporary mask.
	savedMask     uint64
	haveSavedMask bool

	// pending are the thread-directed pending signals. Protected by
	// tg.mu.
	pending pendingSignals

	// pdeathsig is PR_SET_PDEATHSIG's signal, sent when the parent
	// process exits; cleared by execve of a set-user-ID program and on
	// fork. Written by the task goroutine, read under Kernel.mu by the
	// exiting parent.
	pdeathsig int

	// times are the task's CPU times; atomic.
	times taskTimes

	// sched are the scheduling attributes (task_sched.go). Protected by
	// Kernel.mu.
	sched SchedAttr

	// restartBlock resumes the syscall that returned
	// ERESTART_RESTARTBLOCK when restart_syscall(2) is called (struct
	// restart_block).
	restartBlock func(*Task) (uintptr, error)

	// name is the comm name (PR_SET_NAME), at most 15 bytes.
	name string

	// altStack is the sigaltstack(2) state.
	altStack AltStack

	// startTime is when the task was created. Immutable.
	startTime time.Time

	// interruptCh wakes blocking syscalls. Immutable channel.
	interruptCh chan struct{}

	// noNewPrivs is prctl(PR_SET_NO_NEW_PRIVS). Atomic: another thread's
	// seccomp TSYNC sets it, and /proc reads it.
	noNewPrivs atomic.Bool

	// seccomp is the app's seccomp state (task_seccomp.go), nil when
	// disabled. Atomic: read at every syscall entry by the task, replaced
	// with Kernel.mu held (by the task or a thread syncing its filters).
	seccomp atomic.Pointer[seccompState]

	// vforkDone is closed when a vfork child execs or exits.
	vforkDone chan struct{}

	// exe is the path of the running executable.
	exe string

	// exitRequested is set by exit(2)/exit_group(2) and fatal signals.
	exitRequested bool
}

// KernelTask returns t. Contexts that embed a task to override part of it
// (the credentials of access(2)) still name the task through it.
func (t *Task) KernelTask() *Task { return t }

// Kernel returns the task's kernel.
func (t *Task) Kernel() *Kernel { return t.k }

// TID returns the thread ID in the sandbox's PID namespace.
func (t *Task) TID() int32 { return t.tid }

// ThreadGroup returns the task's thread group.
func (t *Task) ThreadGroup() *ThreadGroup { return t.tg }

// Regs returns the task's registers. Only the task goroutine may use them.
func (t *Task) Regs() *arch.Registers { return &t.regs }

// MemoryManager returns the task's address space.
func (t *Task) MemoryManager() *mm.MemoryManager { return t.mm }

// FDTable returns the task's file descriptor table.
func (t *Task) FDTable() *vfs.FDTable { return t.fdTable }

// FSContext returns the task's root, working directory and umask.
func (t *Task) FSContext() *vfs.FSContext { return t.fsc }

// Credentials returns the task's credentials.
func (t *Task) Credentials() *auth.Credentials { return t.creds }

// SetCredentials publishes new credentials for the task.
func (t *Task) SetCredentials(c *auth.Credentials) { t.creds = c }

// Limits returns the thread group's resource limits.
func (t *Task) Limits() *limits.LimitSet { return t.tg.limits }

// VFS returns the kernel's virtual filesystem.
func (t *Task) VFS() *vfs.VirtualFilesystem { return t.k.VFS }

// Name returns the task's comm name.
func (t *Task) Name() string { return t.name }

// Debugf logs a line tagged with the task's TID when debug logging is on.
func (t *Task) Debugf(format string, args ...any) {
	if t.k.Debug {
		log.Printf("[%d] %s", t.tid, fmt.Sprintf(format, args...))
	}
}

// Warningf always logs a line tagged with the task's TID.
func (t *Task) Warningf(format string, args ...any) {
	log.Printf("[%d] %s", t.tid, fmt.Sprintf(format, args...))
}
