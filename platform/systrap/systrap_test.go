package systrap

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/platform/platformtest"
	"pangolin/sentry/arch"
)

var testPlatform *Platform

func TestMain(m *testing.M) { platformtest.Main(m, New, &testPlatform) }

func config() platformtest.Config {
	return platformtest.Config{
		Platform:    testPlatform,
		StubPID:     func(as platform.AddressSpace) int { return as.(*addressSpace).leader.TGID },
		ErrReleased: ErrReleased,
		ErrStubDied: ErrStubDied,
		MasterPID:   func() int { return testPlatform.master.stub.TGID },
	}
}

// TestConformance runs the platform conformance suite.
func TestConformance(t *testing.T) { platformtest.Run(t, config()) }

func TestStubLayout(t *testing.T) {
	begin, sys, clone, handler, restorer, end := stubLayout()
	if !(begin < sys && sys < clone && clone < handler && handler < restorer && restorer < end) {
		t.Fatalf("stub entry points out of order: %#x %#x %#x %#x %#x %#x", begin, sys, clone, handler, restorer, end)
	}
	if end-begin > pageSize {
		t.Fatalf("stub is %d bytes, more than a page", end-begin)
	}
	code := stubCode(begin, end)
	if got := code[sys-begin : sys-begin+3]; string(got) != "\x0f\x05\xcc" {
		t.Errorf("syscall site = % x, want syscall; int3", got)
	}
	if testPlatform.stub.threadInitTrap <= testPlatform.stub.start || testPlatform.stub.threadInitTrap >= testPlatform.stub.handler {
		t.Errorf("thread init trap at %#x, outside stubThreadInit", testPlatform.stub.threadInitTrap)
	}
}

// The stub process holds the stub page, the shared region and what we map.
func TestAddressSpaceLayout(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := platformtest.NewEnv(t, config())
	defer e.Close()
	var regs arch.Registers
	regs.Reset(platformtest.ProgSysloop, platformtest.DataAddr+0x1000)
	e.Switch(&regs)
	as := e.AddressSpace().(*addressSpace)
	want := map[uint64]string{
		platformtest.CodeAddr:                    "r-xs",
		platformtest.DataAddr:                    "rw-s",
		uint64(testPlatform.stubShared):          "r--s",
		uint64(testPlatform.stubShared + 0x1000): "rw-s",
		uint64(testPlatform.stub.start):          "r-xp",
	}
	for start, perms := range platformtest.Mappings(t, as.leader.TGID) {
		if want[start] != perms {
			t.Errorf("unexpected mapping in stub at %#x (%s)", start, perms)
		}
	}
	if got := testPlatform.MaxUserAddress(); got != testPlatform.stubShared || got&0xfff != 0 {
		t.Errorf("MaxUserAddress = %#x", got)
	}
	// Leader, syscall thread and our app thread.
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", as.leader.TGID))
	if len(ents) != 3 {
		t.Errorf("%d stub threads, want 3", len(ents))
	}
	st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", as.leader.TGID, e.AddressSpace().(*addressSpace).sysTid))
	if !strings.Contains(string(st), "\nSeccomp:\t2\n") || !strings.Contains(string(st), "\nNoNewPrivs:\t1\n") {
		t.Errorf("syscall thread is not filtered:\n%s", st)
	}
}

func BenchmarkSyscallRoundTrip(b *testing.B) { platformtest.BenchmarkSyscallRoundTrip(b, config()) }

// Faults carry the hardware's access type: a first store to an unmapped
// page is a write, which ptrace can only guess after a read fault.
func TestExactAccess(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := platformtest.NewEnv(t, config())
	defer e.Close()
	// 0x800: movq $1, 0x700000; ud2
	e.WriteCode(0x800, []byte{0x48, 0xc7, 0x04, 0x25, 0x00, 0x00, 0x70, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x0b})
	var regs arch.Registers
	regs.Reset(platformtest.CodeAddr+0x800, platformtest.DataAddr+0x1000)
	exit := e.Switch(&regs)
	want := platform.Exit{Kind: platform.ExitFault, Signo: int(unix.SIGSEGV), Code: 1, Addr: platformtest.ExtraAddr, Access: platform.AccessType{Write: true}}
	if exit != want {
		t.Fatalf("exit = %+v, want %+v", exit, want)
	}
}

// App code cannot make a host syscall by jumping into the stub page: the
// app filter lets only the handler's calls through and kills the stub
// process for anything else.
func TestStubPageSyscallKills(t *testing.T) {
	for _, c := range []struct {
		name string
		nr   uint64
	}{{"getpid", unix.SYS_GETPID}, {"mmap", unix.SYS_MMAP}, {"clone", unix.SYS_CLONE}, {"seccomp", unix.SYS_SECCOMP}} {
		t.Run(c.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			e := platformtest.NewEnv(t, config())
			defer e.Close()
			var regs arch.Registers
			regs.Reset(testPlatform.stub.syscall, platformtest.DataAddr+0x1000)
			regs.Regs.Rax = c.nr
			_, err := e.Ctx().Switch(e.AddressSpace(), &regs)
			if !errors.Is(err, ErrStubDied) {
				t.Fatalf("Switch = %v, want the stub killed", err)
			}
		})
	}
}

// The app filter never lets an app syscall through to the host, wherever
// it is made from outside the stub page: every one traps.
func TestAppSyscallsTrap(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := platformtest.NewEnv(t, config())
	defer e.Close()
	var regs arch.Registers
	for _, nr := range []uint64{unix.SYS_GETPID, unix.SYS_MMAP, unix.SYS_EXIT_GROUP, unix.SYS_RT_SIGRETURN, unix.SYS_FUTEX, 1000} {
		regs.Reset(platformtest.ProgSysloop, platformtest.DataAddr+0x1000)
		regs.Regs.Rax = nr
		if exit := e.Switch(&regs); exit.Kind != platform.ExitSyscall || regs.SyscallNo() != uintptr(nr) {
			t.Errorf("syscall %d: exit %+v nr %d, want a syscall exit", nr, exit, regs.SyscallNo())
		}
	}
}

// App code can write its threads' control blocks; a scribbled state word
// must not wedge the handoff.
func TestScribbledState(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := platformtest.NewEnv(t, config())
	defer e.Close()
	var regs arch.Registers
	regs.Reset(platformtest.ProgSysloop, platformtest.DataAddr+0x1000)
	for i := 0; i < 20; i++ {
		if exit := e.Switch(&regs); exit.Kind != platform.ExitSyscall {
			t.Fatalf("exit %+v", exit)
		}
		th := e.Ctx().(*context).threads[e.AddressSpace().(*addressSpace)]
		th.state.Store(7 + uint32(i))
	}
}
func BenchmarkAddressSpace(b *testing.B) { platformtest.BenchmarkAddressSpace(b, config()) }

// The layout constants in stub_amd64.s and stub_amd64.go must agree.
func TestStubConstants(t *testing.T) {
	b, err := os.ReadFile("stub_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#define" {
			defs[f[1]] = f[2]
		}
	}
	for name, want := range map[string]int{
		"CTL_STATE": ctlState, "CTL_CMD": ctlCmd, "CTL_UC": ctlUC, "CTL_SI": ctlSI, "CTL_SIGNO": ctlSigno,
		"CTL_FS": ctlFS, "CTL_GS": ctlGS, "CTL_FSGSBASE": ctlFSGSBase, "CTL_SPIN": ctlSpin, "CTL_PROBE": ctlProbe,
		"CTL_STACK": ctlStack,
		"REQ_SEQ":   reqSeq, "REQ_NR": reqNr, "REQ_ARGS": reqArgs, "REQ_R14": reqR14, "REQ_SIGACTION": reqSigaction,
		"REQ_SIGMASK": reqSigmask, "REQ_MAPLEN": reqMapLen, "REQ_MAPFD": reqMapFD, "REQ_MAPOFF": reqMapOff,
		"REQ_SIGNALS": reqSignals, "REQ_FPROG": reqFprog,
		"REP_DONE": repDone, "REP_RET": repRet,
		"STATE_RESUME": stateResume, "STATE_SLEEPING": stateSleeping, "STATE_EVENT": stateEvent, "STATE_HSLEEP": stateHSleep,
		"CMD_EXIT": cmdExit,
	} {
		got, ok := defs[name]
		if !ok {
			t.Errorf("stub_amd64.s does not define %s", name)
			continue
		}
		if v, err := strconv.ParseInt(got, 0, 64); err != nil || int(v) != want {
			t.Errorf("%s = %s in stub_amd64.s, %d in Go", name, got, want)
		}
	}
	if got := defs["REGION_MASK"]; got != fmt.Sprintf("$~%#x", regionSize-1) {
		t.Errorf("REGION_MASK = %s, want $~%#x", got, regionSize-1)
	}
	if len(handledSignals) >= reqFprog-reqSignals {
		t.Errorf("%d handled signals do not fit the request page", len(handledSignals))
	}
}
