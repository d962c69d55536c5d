// Package platformtest is the conformance suite every platform.Platform
// implementation runs (platform/ptrace, platform/systrap): small machine
// code programs in a memfd are switched into and must stop with the right
// exits, registers, FP state, TLS, interrupts and threads, and releasing
// must leave no host process or descriptor behind.
//
// A platform's test calls Run with a Config from a TestX function; the
// suite needs root (the platforms trace or clone host processes).
package platformtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/sentry/arch"
)

// Config describes the platform under test.
type Config struct {
	Platform platform.Platform
	// StubPID returns the host PID of the stub process behind as.
	StubPID func(as platform.AddressSpace) int
	// ErrReleased and ErrStubDied are the platform's errors for a
	// released address space and a stub killed underneath it.
	ErrReleased, ErrStubDied error
	// MasterPID returns the host PID of the platform's master stub, the
	// only child process the platform keeps while no address space lives.
	MasterPID func() int
}

// Run runs the whole suite as subtests of t.
func Run(t *testing.T, c Config) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Config)
	}{
		{"Sequence", testSequence},
		{"SingleExits", testSingleExits},
		{"Interrupt", testInterrupt},
		{"Threads", testThreads},
		{"MapErrors", testMapErrors},
		{"StubDied", testStubDied},
		{"ReleaseLeavesNothing", testReleaseLeavesNothing},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, c) })
	}
	if kids, master := Children(), c.MasterPID(); len(kids) != 1 || kids[0] != master {
		t.Errorf("children = %v, want only the master stub %d", kids, master)
	}
}

// Main is a platform package's TestMain: it creates the platform with
// newPlatform into *p for the package's tests, runs them, closes the
// platform and fails unless no child process is left. It does not return.
func Main[P interface{ Close() }](m *testing.M, newPlatform func() (P, error), p *P) {
	v, err := newPlatform()
	if err != nil {
		fmt.Fprintln(os.Stderr, "New:", err)
		os.Exit(1)
	}
	*p = v
	code := m.Run()
	v.Close()
	if kids := Children(); len(kids) != 0 {
		fmt.Fprintf(os.Stderr, "children left after Close: %v\n", kids)
		code = 1
	}
	os.Exit(code)
}

// Mappings returns the mappings of process pid as start address ->
// permissions ("r-xp"), without the legacy vsyscall page (which every
// x86-64 process has).
func Mappings(t testing.TB, pid int) map[uint64]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	maps := map[uint64]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasSuffix(line, "[vsyscall]") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("/proc/%d/maps: bad line %q", pid, line)
		}
		start, err := strconv.ParseUint(strings.SplitN(f[0], "-", 2)[0], 16, 64)
		if err != nil {
			t.Fatalf("/proc/%d/maps: bad line %q", pid, line)
		}
		maps[start] = f[1]
	}
	return maps
}

// Test memory layout. The memfd holds one page per region, at these file
// offsets, mapped at these addresses.
const (
	codeAddr  = 0x400000 // code page (prog below), read+exec
	dataAddr  = 0x600000 // data page, read+write
	extraAddr = 0x700000 // initially unmapped; tests map it on demand
	execAddr  = 0x800000 // never mapped

	codeOff  = 0x0000
	dataOff  = 0x1000
	extraOff = 0x2000
	fileSize = 0x4000
)

// prog is the test code, assembled with GNU as (entry points at the
// offsets below):
//
//	0x000 main:    mov $39,%eax; syscall; mov %rax,0x600000
//	               mov 0x700000,%rbx; mov %rbx,0x600008; movq $1,0x700008; ud2
//	0x100 exec:    mov $0x800000,%eax; jmp *%rax
//	0x200 fs:      mov %fs:0,%rcx; mov %rcx,0x600010; ud2
//	0x300 fp:      movups %xmm0,0x600020; movups 0x600040,%xmm1; ud2
//	0x400 loop:    jmp loop
//	0x500 sysloop: syscall; jmp sysloop
//	0x600 trap:    int3
//	0x700 gp:      hlt
var prog = map[uintptr][]byte{
	0x000: {
		0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05,
		0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00,
		0x48, 0x8b, 0x1c, 0x25, 0x00, 0x00, 0x70, 0x00,
		0x48, 0x89, 0x1c, 0x25, 0x08, 0x00, 0x60, 0x00,
		0x48, 0xc7, 0x04, 0x25, 0x08, 0x00, 0x70, 0x00, 0x01, 0x00, 0x00, 0x00,
		0x0f, 0x0b,
	},
	0x100: {0xb8, 0x00, 0x00, 0x80, 0x00, 0xff, 0xe0},
	0x200: {
		0x64, 0x48, 0x8b, 0x0c, 0x25, 0x00, 0x00, 0x00, 0x00,
		0x48, 0x89, 0x0c, 0x25, 0x10, 0x00, 0x60, 0x00,
		0x0f, 0x0b,
	},
	0x300: {
		0x0f, 0x11, 0x04, 0x25, 0x20, 0x00, 0x60, 0x00,
		0x0f, 0x10, 0x0c, 0x25, 0x40, 0x00, 0x60, 0x00,
		0x0f, 0x0b,
	},
	0x400: {0xeb, 0xfe},
	0x500: {0x0f, 0x05, 0xeb, 0xfc},
	0x600: {0xcc},
	0x700: {0xf4},
}

const (
	progMain    = codeAddr + 0x000
	progExec    = codeAddr + 0x100
	progFS      = codeAddr + 0x200
	progFP      = codeAddr + 0x300
	progLoop    = codeAddr + 0x400
	progSysloop = codeAddr + 0x500
	progTrap    = codeAddr + 0x600
	progGP      = codeAddr + 0x700
)

// Children lists the host child processes of every thread of the test
// process (zombies included).
func Children() []int {
	var pids []int
	files, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(s)
			pids = append(pids, n)
		}
	}
	return pids
}

// CountFDs returns the number of open descriptors of the test process.
func CountFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

type env struct {
	t   testing.TB
	c   Config
	as  platform.AddressSpace
	ctx platform.Context
	fd  int
}

// newEnv must be called on a goroutine that has locked its OS thread.
func newEnv(t testing.TB, c Config) *env {
	t.Helper()
	as, err := c.Platform.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	return newEnvIn(t, c, as)
}

func newEnvIn(t testing.TB, c Config, as platform.AddressSpace) *env {
	t.Helper()
	ctx, err := c.Platform.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.MemfdCreate("platform-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, c: c, as: as, ctx: ctx, fd: fd}
	if err := unix.Ftruncate(fd, fileSize); err != nil {
		t.Fatal(err)
	}
	for off, b := range prog {
		e.pwrite(codeOff+int64(off), b)
	}
	if err := e.as.MapFile(codeAddr, fd, codeOff, 0x1000, platform.AccessType{Read: true, Execute: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.as.MapFile(dataAddr, fd, dataOff, 0x1000, platform.ReadWrite); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) close() {
	e.ctx.Release()
	e.as.Release()
	unix.Close(e.fd)
}

func (e *env) pwrite(off int64, b []byte) {
	if _, err := unix.Pwrite(e.fd, b, off); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) pread(off int64, n int) []byte {
	b := make([]byte, n)
	if _, err := unix.Pread(e.fd, b, off); err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) u64(off int64) uint64 { return binary.LittleEndian.Uint64(e.pread(off, 8)) }

func (e *env) switchTo(regs *arch.Registers) platform.Exit {
	e.t.Helper()
	exit, err := e.ctx.Switch(e.as, regs)
	if err != nil {
		e.t.Fatalf("Switch: %v", err)
	}
	return exit
}

// TestSequence walks the main program through a syscall, a read fault, a
// write fault and an illegal instruction.
func testSequence(t *testing.T, c Config) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(t, c)
	defer e.close()
	const magic = 0x1122334455667788
	var m [8]byte
	binary.LittleEndian.PutUint64(m[:], magic)
	e.pwrite(extraOff, m[:])

	var regs arch.Registers
	regs.Reset(progMain, dataAddr+0x1000)

	exit := e.switchTo(&regs)
	if exit.Kind != platform.ExitSyscall || regs.SyscallNo() != unix.SYS_GETPID {
		t.Fatalf("exit %v sysno %d, want syscall getpid", exit.Kind, regs.SyscallNo())
	}
	if int64(regs.Regs.Rax) != -int64(unix.ENOSYS) {
		t.Errorf("rax at syscall stop = %#x, want -ENOSYS", regs.Regs.Rax)
	}
	if regs.IP() != progMain+7 || !regs.FPValid {
		t.Errorf("rip %#x FPValid %v", regs.IP(), regs.FPValid)
	}

	regs.SetReturn(0x1234)
	exit = e.switchTo(&regs)
	want := platform.Exit{Kind: platform.ExitFault, Signo: int(unix.SIGSEGV), Code: 1 /* SEGV_MAPERR */, Addr: extraAddr, Access: platform.Read}
	if exit != want {
		t.Fatalf("exit = %+v, want %+v", exit, want)
	}

	// Map the page read-only: the load succeeds, the store faults on the
	// same page and is guessed to be a write.
	if err := e.as.MapFile(extraAddr, e.fd, extraOff, 0x1000, platform.Read); err != nil {
		t.Fatal(err)
	}
	exit = e.switchTo(&regs)
	want = platform.Exit{Kind: platform.ExitFault, Signo: int(unix.SIGSEGV), Code: 2 /* SEGV_ACCERR */, Addr: extraAddr + 8, Access: platform.AccessType{Write: true}}
	if exit != want {
		t.Fatalf("exit = %+v, want %+v", exit, want)
	}

	if err := e.as.MapFile(extraAddr, e.fd, extraOff, 0x1000, platform.ReadWrite); err != nil {
		t.Fatal(err)
	}
	exit = e.switchTo(&regs)
	if exit.Kind != platform.ExitSignal || exit.Signo != int(unix.SIGILL) || regs.IP() != progMain+0x2b {
		t.Fatalf("exit = %+v at %#x, want SIGILL at ud2", exit, regs.IP())
	}
	if got := e.u64(dataOff); got != 0x1234 {
		t.Errorf("syscall return stored as %#x", got)
	}
	if got := e.u64(dataOff + 8); got != magic {
		t.Errorf("loaded %#x, want %#x", got, uint64(magic))
	}
	if got := e.u64(extraOff + 8); got != 1 {
		t.Errorf("store wrote %#x", got)
	}
	if err := e.as.Unmap(extraAddr, 0x1000); err != nil {
		t.Fatal(err)
	}
}

// TestSingleExits runs small programs that stop once.
// TestSingleExits runs small programs that stop once.
func testSingleExits(t *testing.T, c Config) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(t, c)
	defer e.close()
	xmm0 := []byte("0123456789abcdef")
	xmm1 := []byte("fedcba9876543210")

	for _, c := range []struct {
		name  string
		ip    uintptr
		setup func(*arch.Registers)
		want  platform.Exit
		check func(*arch.Registers)
	}{{
		name: "execute fault",
		ip:   progExec,
		want: platform.Exit{Kind: platform.ExitFault, Signo: int(unix.SIGSEGV), Code: 1, Addr: execAddr, Access: platform.AccessType{Execute: true}},
	}, {
		name: "int3",
		ip:   progTrap,
		want: platform.Exit{Kind: platform.ExitSignal, Signo: int(unix.SIGTRAP), Code: 0x80 /* SI_KERNEL */},
	}, {
		name: "privileged instruction",
		ip:   progGP,
		want: platform.Exit{Kind: platform.ExitSignal, Signo: int(unix.SIGSEGV), Code: 0x80},
	}, {
		name: "FS base",
		ip:   progFS,
		setup: func(r *arch.Registers) {
			r.SetTLS(dataAddr + 0x100)
			e.pwrite(dataOff+0x100, []byte("fs-base!"))
		},
		want: platform.Exit{Kind: platform.ExitSignal, Signo: int(unix.SIGILL), Code: 2 /* ILL_ILLOPN */, Addr: progFS + 0x11},
		check: func(r *arch.Registers) {
			if got := string(e.pread(dataOff+0x10, 8)); got != "fs-base!" {
				t.Errorf("read via %%fs: %q", got)
			}
			if r.TLS() != dataAddr+0x100 {
				t.Errorf("TLS after switch = %#x", r.TLS())
			}
		},
	}, {
		name: "FP state",
		ip:   progFP,
		setup: func(r *arch.Registers) {
			copy(r.FP[160:], xmm0) // FXSAVE: XMM0 at byte 160
			e.pwrite(dataOff+0x40, xmm1)
		},
		want: platform.Exit{Kind: platform.ExitSignal, Signo: int(unix.SIGILL), Code: 2, Addr: progFP + 0x10},
		check: func(r *arch.Registers) {
			if got := e.pread(dataOff+0x20, 16); !bytes.Equal(got, xmm0) {
				t.Errorf("xmm0 stored as %q", got)
			}
			if got := r.FP[176:192]; !bytes.Equal(got, xmm1) {
				t.Errorf("xmm1 read back as %q", got)
			}
			if !r.FPValid {
				t.Error("FPValid not set")
			}
		},
	}} {
		t.Run(c.name, func(t *testing.T) {
			var regs arch.Registers
			regs.Reset(c.ip, dataAddr+0x1000)
			if c.setup != nil {
				c.setup(&regs)
			}
			exit, err := e.ctx.Switch(e.as, &regs)
			if err != nil {
				t.Fatal(err)
			}
			if exit != c.want {
				t.Fatalf("exit = %+v, want %+v", exit, c.want)
			}
			if c.check != nil {
				c.check(&regs)
			}
		})
	}
}

func testInterrupt(t *testing.T, c Config) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(t, c)
	defer e.close()

	var regs arch.Registers
	regs.Reset(progLoop, dataAddr+0x1000)
	timer := time.AfterFunc(50*time.Millisecond, e.ctx.Interrupt)
	defer timer.Stop()
	start := time.Now()
	exit := e.switchTo(&regs)
	if exit.Kind != platform.ExitInterrupted || regs.IP() != progLoop {
		t.Fatalf("exit %+v at %#x, want interrupted in loop", exit, regs.IP())
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("interrupted after %v", d)
	}

	// An interrupt before Switch is consumed by it without running app
	// code; the next Switch runs normally.
	e.ctx.Interrupt()
	regs.Reset(progSysloop, dataAddr+0x1000)
	if exit := e.switchTo(&regs); exit.Kind != platform.ExitInterrupted || regs.IP() != progSysloop {
		t.Fatalf("exit %+v at %#x, want immediate interrupt", exit, regs.IP())
	}
	for i := 0; i < 3; i++ {
		if exit := e.switchTo(&regs); exit.Kind != platform.ExitSyscall {
			t.Fatalf("exit %+v, want syscall", exit)
		}
	}

	// Interrupts racing with many short switches are never lost: each
	// Interrupt makes the current or next Switch return ExitInterrupted.
	for i := 0; i < 200; i++ {
		done := make(chan struct{})
		go func() { e.ctx.Interrupt(); close(done) }()
		<-done
		got := false
		for j := 0; j < 3 && !got; j++ {
			got = e.switchTo(&regs).Kind == platform.ExitInterrupted
		}
		if !got {
			t.Fatalf("iteration %d: interrupt lost", i)
		}
	}
}

// TestThreads switches into one address space from several OS threads, maps
// from a thread that never switches, and checks that a retired thread does
// not take the stub process down with it.
// TestThreads switches into one address space from several OS threads, maps
// from a thread that never switches, and checks that a retired thread does
// not take the stub process down with it.
func testThreads(t *testing.T, c Config) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(t, c)
	defer e.close()
	tasks := func() int {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", c.StubPID(e.as)))
		return len(ents)
	}

	var regs arch.Registers
	regs.Reset(progSysloop, dataAddr+0x1000)
	if exit := e.switchTo(&regs); exit.Kind != platform.ExitSyscall {
		t.Fatalf("exit %+v", exit)
	}
	// The platform's own threads plus ours; workers add theirs and must
	// take them away when they retire.
	base := tasks()

	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Locked and never unlocked: the OS thread dies with the
			// goroutine, as for a sentry task.
			runtime.LockOSThread()
			ctx, _ := c.Platform.NewContext()
			defer ctx.Release()
			var r arch.Registers
			r.Reset(progSysloop, dataAddr+0x1000)
			for i := 0; i < 100; i++ {
				exit, err := ctx.Switch(e.as, &r)
				if err == nil && exit.Kind != platform.ExitSyscall {
					err = fmt.Errorf("exit %+v", exit)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := tasks(); n != base {
		t.Errorf("%d stub threads after workers retired, want %d", n, base)
	}

	// A thread that never switches can map too.
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		done <- e.as.MapFile(extraAddr, e.fd, extraOff, 0x1000, platform.ReadWrite)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e.pwrite(extraOff+8, []byte{7, 0, 0, 0, 0, 0, 0, 0})
	regs.Reset(progMain, dataAddr+0x1000)
	for _, want := range []platform.ExitKind{platform.ExitSyscall, platform.ExitSignal} {
		if exit := e.switchTo(&regs); exit.Kind != want {
			t.Fatalf("exit %+v, want %v", exit, want)
		}
	}
	if got := e.u64(extraOff + 8); got != 1 {
		t.Errorf("store through foreign mapping: %#x", got)
	}
}

func testMapErrors(t *testing.T, c Config) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(t, c)
	defer e.close()
	stub := c.Platform.MaxUserAddress()
	for _, tc := range []struct {
		name string
		addr uintptr
		fd   int
		len  uintptr
		want error
	}{
		{"bad fd", extraAddr, 1 << 20, 0x1000, unix.EBADF},
		{"unaligned", extraAddr + 1, e.fd, 0x1000, unix.EINVAL},
		{"over stub", stub - 0x1000, e.fd, 0x2000, unix.EINVAL},
		{"wraps", ^uintptr(0xfff), e.fd, 0x2000, unix.EINVAL},
		{"empty", extraAddr, e.fd, 0, unix.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.as.MapFile(tc.addr, tc.fd, 0, tc.len, platform.Read)
			if !errors.Is(err, tc.want) {
				t.Errorf("MapFile = %v, want %v", err, tc.want)
			}
		})
	}
	if err := e.as.Unmap(stub, 0x1000); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Unmap(stub) = %v", err)
	}
}

// A stub killed from outside is a platform error, and Release still reaps.
// A stub killed from outside is a platform error, and Release still reaps.
func testStubDied(t *testing.T, c Config) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(t, c)
	defer e.close()
	var regs arch.Registers
	regs.Reset(progSysloop, dataAddr+0x1000)
	e.switchTo(&regs)
	if err := unix.Kill(c.StubPID(e.as), unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctx.Switch(e.as, &regs); !errors.Is(err, c.ErrStubDied) {
		t.Fatalf("Switch after SIGKILL: %v, want ErrStubDied", err)
	}
}

func testReleaseLeavesNothing(t *testing.T, c Config) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := Children()
	fds := CountFDs(t)
	const n = 50
	for i := 0; i < n; i++ {
		e := newEnv(t, c)
		var regs arch.Registers
		regs.Reset(progSysloop, dataAddr+0x1000)
		if exit := e.switchTo(&regs); exit.Kind != platform.ExitSyscall {
			t.Fatalf("exit %+v", exit)
		}
		if i%2 == 0 {
			// Release order must not matter.
			e.as.Release()
		}
		e.close()
		if _, err := e.ctx.Switch(e.as, &regs); !errors.Is(err, c.ErrReleased) {
			t.Fatalf("Switch after Release: %v", err)
		}
	}
	if got := CountFDs(t); got != fds {
		t.Errorf("fds: %d before, %d after %d address spaces", fds, got, n)
	}
	if after := Children(); len(after) != len(before) {
		t.Errorf("children: %v before, %v after", before, after)
	}
}

// BenchmarkSyscallRoundTrip measures one syscall exit and resume.
func BenchmarkSyscallRoundTrip(b *testing.B, c Config) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(b, c)
	defer e.close()
	var regs arch.Registers
	regs.Reset(progSysloop, dataAddr+0x1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		exit, err := e.ctx.Switch(e.as, &regs)
		if err != nil || exit.Kind != platform.ExitSyscall {
			b.Fatalf("exit %+v err %v", exit, err)
		}
	}
}

// Exported for the platforms' own tests.
const (
	CodeAddr    = codeAddr
	DataAddr    = dataAddr
	ProgMain    = progMain
	ProgSysloop = progSysloop
)

// Env is an address space with the test program mapped, and a context.
type Env = env

// NewEnv creates an Env; the caller has locked its OS thread.
func NewEnv(t testing.TB, c Config) *Env { return newEnv(t, c) }

// NewEnvIn creates an Env in an existing address space.
func NewEnvIn(t testing.TB, c Config, as platform.AddressSpace) *Env { return newEnvIn(t, c, as) }

// AddressSpace returns the Env's address space.
func (e *env) AddressSpace() platform.AddressSpace { return e.as }

// Ctx returns the Env's context.
func (e *env) Ctx() platform.Context { return e.ctx }

// Close releases the Env.
func (e *env) Close() { e.close() }

// Switch switches into the Env and fails the test on a platform error.
func (e *env) Switch(regs *arch.Registers) platform.Exit { return e.switchTo(regs) }

// WriteCode writes machine code at offset off of the Env's code page
// (mapped read+exec at CodeAddr).
func (e *env) WriteCode(off int64, b []byte) { e.pwrite(codeOff+off, b) }

// ExtraAddr is a page the suite leaves unmapped.
const ExtraAddr = extraAddr

// BenchmarkAddressSpace measures creating an address space, mapping the
// test program, running it to its first syscall and releasing it all: the
// platform's share of fork+exec.
func BenchmarkAddressSpace(b *testing.B, c Config) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var regs arch.Registers
	for i := 0; i < b.N; i++ {
		e := newEnv(b, c)
		regs.Reset(progSysloop, dataAddr+0x1000)
		if exit := e.switchTo(&regs); exit.Kind != platform.ExitSyscall {
			b.Fatalf("exit %+v", exit)
		}
		e.close()
	}
}
