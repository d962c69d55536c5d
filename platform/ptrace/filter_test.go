package ptrace

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/platform/platformtest"
	"pangolin/seccomp"
	"pangolin/sentry/arch"
)

func TestFilterRulesCompile(t *testing.T) {
	for name, rules := range map[string][]seccomp.Rule{"host": HostSyscalls(), "stub": stubRules()} {
		if err := seccomp.Check(rules); err != nil {
			t.Errorf("%s rules: %v", name, err)
		}
		for _, r := range rules {
			if r.Why == "" {
				t.Errorf("%s rule %s has no reason", name, r.Name)
			}
		}
	}
}

// Every stub runs under the stub filter with no_new_privs, and the app's own
// syscalls still reach the sentry (SYSEMU stops them before seccomp runs).
func TestStubIsFiltered(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(t)
	defer e.Close()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", leaderOf(e).TGID))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nSeccomp:\t2\n", "\nNoNewPrivs:\t1\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("stub status lacks %q:\n%s", want, b)
		}
	}
	var regs arch.Registers
	regs.Reset(platformtest.ProgMain, platformtest.DataAddr+0x1000)
	if exit := e.Switch(&regs); exit.Kind != platform.ExitSyscall || regs.SyscallNo() != unix.SYS_GETPID {
		t.Fatalf("app getpid: exit %+v sysno %d, want a syscall stop", exit, regs.SyscallNo())
	}
}

// A syscall that is not one of the platform's injections kills the stub:
// the filter is what stands between app code that somehow ran untraced and
// the host kernel.
func TestStubFilterKills(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(t)
	defer e.Close()
	_, err := e.AddressSpace().(*addressSpace).syscall(unix.SYS_GETPPID)
	if !errors.Is(err, ErrStubDied) || !strings.Contains(err.Error(), "bad system call") {
		t.Fatalf("injected getppid: %v, want the stub killed by SIGSYS", err)
	}
}
