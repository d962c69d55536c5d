package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/sentry/arch"
	"pangolin/sentry/memmap"
)

// start runs on the task's own goroutine: it locks the OS thread (the
// platform requires one tracer thread per context), runs setup (for init:
// loading the image), reports setup's result on errc, then runs the app.
func (t *Task) start(setup func() error, errc chan<- error) {
	runtime.LockOSThread()
	// The OS thread stays locked until the goroutine exits, so the Go
	// runtime discards it rather than reusing a thread that traced stubs.
	pctx, err := t.k.Platform.NewContext()
	if err != nil {
		errc <- fmt.Errorf("new platform context: %w", err)
		return
	}
	t.pctx = pctx
	if err := setup(); err != nil {
		t.pctx.Release()
		t.k.mu.Lock()
		delete(t.k.tasks, t.tid)
		t.k.mu.Unlock()
		errc <- err
		return
	}
	errc <- nil
	t.run()
}

// run is the task's main loop: switch into the app, handle what stopped
// it, repeat until the task exits.
func (t *Task) run() {
	defer t.exitNotify()
	afterSyscall := false
	for {
		t.handleSignals(afterSyscall)
		afterSyscall = false
		if t.killed() {
			break
		}
		start := time.Now()
		exit, err := t.pctx.Switch(t.mm.AddressSpace(), &t.regs)
		t.times.user.Add(int64(time.Since(start)))
		if err != nil {
			t.Warningf("platform failure: %v", err)
			t.exitGroup(WaitStatus{Signal: int(unix.SIGKILL)})
			break
		}
		switch exit.Kind {
		case platform.ExitSyscall:
			t.doSyscall()
			afterSyscall = true
		case platform.ExitFault:
			if err := t.mm.HandleFault(exit.Addr, exit.Access); err != nil {
				t.Debugf("fault at %#x (%s, rip %#x, signo %d code %d): %v", exit.Addr, accessString(exit.Access), t.regs.IP(), exit.Signo, exit.Code, err)
				if errors.Is(err, unix.ENOMEM) {
					// Out of sandbox memory: the OOM killer's choice.
					t.exitGroup(WaitStatus{Signal: int(unix.SIGKILL)})
					break
				}
				sig := unix.SIGSEGV
				if exit.Signo == int(unix.SIGBUS) || memmap.IsBusError(err) {
					sig = unix.SIGBUS
				}
				t.ForceSignal(SigInfo{Signo: int(sig), Code: t.mm.SegvCode(exit.Addr), Addr: uint64(exit.Addr)})
			}
		case platform.ExitSignal:
			t.Debugf("signal %d from app at rip %#x", exit.Signo, t.regs.IP())
			t.ForceSignal(SigInfo{Signo: exit.Signo, Code: exit.Code, Addr: uint64(exit.Addr)})
		case platform.ExitInterrupted:
			// Interrupts only ask the task to look at its state; the
			// top of the loop does.
		}
		t.accountSys()
		t.sampleRSS()
	}
}

// sortTasks orders tasks by TID.
func sortTasks(ts []*Task) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].tid < ts[j].tid })
}

func accessString(at platform.AccessType) string {
	s := []byte("---")
	if at.Read {
		s[0] = 'r'
	}
	if at.Write {
		s[1] = 'w'
	}
	if at.Execute {
		s[2] = 'x'
	}
	return string(s)
}

// doSyscall dispatches the syscall in the task's registers.
func (t *Task) doSyscall() {
	nr := t.regs.SyscallNo()
	args := t.regs.SyscallArgs()
	entry, ok := t.k.Syscalls.Entries[nr]
	if t.k.Strace {
		t.straceEnter(nr, entry.Name, args)
	}
	var ret uintptr
	var err error
	// seccomp runs first and may decide the result instead of the
	// handler (__secure_computing() in syscall_trace_enter()).
	run := true
	if s := t.seccomp.Load(); s != nil {
		run, ret, err = t.seccompEnter(s, nr, args)
	}
	switch {
	case !run:
	case !ok || entry.Fn == nil:
		t.k.logUnknown(t, nr, entry.Name)
		err = unix.ENOSYS
	default:
		ret, err = t.callHandler(entry, args)
	}
	if errors.Is(err, ErrNoReturn) {
		if t.k.Strace {
			t.straceExit(nr, entry.Name, args, uintptr(t.regs.Regs.Rax), nil)
		}
		return
	}
	if err != nil {
		var errno unix.Errno
		if !errors.As(err, &errno) {
			// A handler returned a non-errno error: that is a sentry
			// bug; log it and give the app EIO rather than crash.
			t.Warningf("syscall %s returned non-errno error: %v", entry.Name, err)
			errno = unix.EIO
		}
		ret = uintptr(-int64(errno))
	}
	t.regs.SetReturn(ret)
	if t.k.Strace {
		t.straceExit(nr, entry.Name, args, ret, err)
	}
}

// callHandler runs a handler, turning a sentry panic into a logged EIO for
// this syscall: app input must never take the sandbox down, and a panic is a
// bug to fix, not a crash to suffer.
func (t *Task) callHandler(entry Syscall, args arch.SyscallArguments) (ret uintptr, err error) {
	defer func() {
		if r := recover(); r != nil {
			t.Warningf("BUG: panic in syscall %s: %v\n%s", entry.Name, r, debug.Stack())
			ret, err = 0, unix.EIO
		}
	}()
	return entry.Fn(t, args)
}
