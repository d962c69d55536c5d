package filter

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"pangolin/platform/ptrace"
	"pangolin/platform/systrap"
	"pangolin/seccomp"
)

// platformRules are the platforms' additions to the filter, by --platform
// name.
var platformRules = map[string]func() []seccomp.Rule{
	"ptrace":  ptrace.HostSyscalls,
	"systrap": systrap.HostSyscalls,
}

// childPlatform is the platform whose rules the filtered child installs:
// $PANGOLIN_PLATFORM (as the CLI's --platform default), else ptrace.
func childPlatform() string {
	if p := os.Getenv("PANGOLIN_PLATFORM"); p != "" {
		return p
	}
	return "ptrace"
}

// sentryRules are the rules of an OCI sentry (with a control socket on fd
// 4), the larger of the two lists, on platform plat.
func sentryRules(t testing.TB, plat string) []seccomp.Rule {
	t.Helper()
	rules, err := Sentry(platformRules[plat](), Options{ControlFD: 4})
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// forPlatforms runs f once per platform.
func forPlatforms(t *testing.T, f func(t *testing.T, plat string)) {
	for _, plat := range []string{"ptrace", "systrap"} {
		t.Run(plat, func(t *testing.T) { f(t, plat) })
	}
}

func TestRulesCompile(t *testing.T) {
	forPlatforms(t, func(t *testing.T, plat string) {
		if err := seccomp.Check(sentryRules(t, plat)); err != nil {
			t.Fatal(err)
		}
	})
}

// The sentry stays within its budget of distinct host syscalls on every
// platform (issue #4: at most 55; gVisor's main filter has about 90).
func TestHostSyscallBudget(t *testing.T) {
	forPlatforms(t, func(t *testing.T, plat string) {
		n := seccomp.Allowed(sentryRules(t, plat))
		t.Logf("%d host syscalls: %s", len(n), strings.Join(n, " "))
		if len(n) > MaxHostSyscalls {
			t.Errorf("the sentry allows %d host syscalls, budget %d", len(n), MaxHostSyscalls)
		}
	})
}

// Syscalls that would let the sentry name a host path, create a process or
// a socket, change namespaces or mounts, or load code: none may be allowed.
func TestNoDangerousSyscalls(t *testing.T) { forPlatforms(t, testNoDangerousSyscalls) }

func testNoDangerousSyscalls(t *testing.T, plat string) {
	forbidden := []string{
		"open", "openat", "openat2", "creat", "open_by_handle_at", "name_to_handle_at",
		"stat", "lstat", "newfstatat", "statx", "access", "faccessat", "faccessat2", "readlink", "readlinkat",
		"execve", "execveat", "fork", "vfork", "socket", "socketpair", "connect", "bind", "accept4",
		"mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "fsopen", "fsmount", "open_tree", "move_mount",
		"chdir", "fchdir", "mkdir", "mkdirat", "unlink", "unlinkat", "rename", "renameat2", "link", "linkat", "symlink", "symlinkat",
		"setuid", "setgid", "setresuid", "setresgid", "capset", "prctl", "seccomp",
		"bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "keyctl", "add_key", "kexec_load", "init_module",
		"finit_module", "reboot", "settimeofday", "clock_settime", "sethostname", "process_vm_readv", "process_vm_writev",
		"memfd_create", "mremap", "pkey_mprotect",
	}
	do, err := Sentry(platformRules[plat](), Options{ControlFD: -1})
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, n := range seccomp.Allowed(do) {
		allowed[n] = true
	}
	for _, n := range append(forbidden, "accept4", "getsockopt") {
		if allowed[n] {
			t.Errorf("%s is allowed", n)
		}
	}
	// An OCI sentry adds accepting on its control socket, nothing else.
	for _, r := range sentryRules(t, plat) {
		if allowed[r.Name] || r.Errno != 0 {
			continue
		}
		switch r.Name {
		case "accept4":
			if len(r.Any) != 1 || r.Any[0][0] != seccomp.Eq(0, 4, "fd == the control socket") {
				t.Errorf("accept4 is not limited to the control socket: %+v", r.Any)
			}
		case "getsockopt":
		default:
			t.Errorf("an OCI sentry also allows %s", r.Name)
		}
	}
}

const childEnv = "PANGOLIN_FILTER_TEST_CHILD"

// started is when the last child started (seccomp.Now), so that an audit
// record of an earlier process with the same PID is not taken for its.
var started time.Duration

// TestMain lets the test binary act as a child that installs the sentry's
// real filter and then does one thing.
func TestMain(m *testing.M) {
	if what := os.Getenv(childEnv); what != "" {
		os.Exit(child(what))
	}
	os.Exit(m.Run())
}

// child installs the sentry filter and performs action what. It prints
// "installed" once filtered, and "survived" if the action did not kill it.
func child(what string) int {
	rules, err := Sentry(platformRules[childPlatform()](), Options{ControlFD: 4})
	if err == nil {
		err = seccomp.Install(rules)
	}
	if err != nil {
		fmt.Println("install:", err)
		return 2
	}
	fmt.Println("installed")
	switch what {
	case "allowed":
		// Ordinary Go runtime activity: goroutines, timers, GC, threads.
		done := make(chan int)
		for i := 0; i < 8; i++ {
			go func(i int) {
				runtime.LockOSThread()
				b := make([]byte, 1<<20)
				time.Sleep(10 * time.Millisecond)
				done <- len(b) + i
			}(i)
		}
		for i := 0; i < 8; i++ {
			<-done
		}
		runtime.GC()
	case "openat":
		f, err := os.Open("/etc/passwd")
		fmt.Println("open:", f, err)
	case "wx-mmap":
		_, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		fmt.Println("mmap:", err)
	case "x-mprotect":
		b, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err == nil {
			err = unix.Mprotect(b, unix.PROT_READ|unix.PROT_EXEC)
		}
		fmt.Println("mprotect:", err)
	case "tiocsti":
		c := byte('x')
		_, _, e := unix.Syscall(unix.SYS_IOCTL, 0, unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
		fmt.Println("ioctl:", e)
	case "fork":
		_, _, e := unix.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
		fmt.Println("clone:", e)
	case "kill-broadcast":
		// Run only in a fresh PID namespace (see runChild): even an
		// unfiltered kill(-1) there reaches nothing but this process.
		_, _, e := unix.RawSyscall(unix.SYS_KILL, ^uintptr(0), uintptr(unix.SIGKILL), 0)
		fmt.Println("kill:", e)
	case "ptrace-attach":
		_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_ATTACH, 1, 0, 0, 0, 0)
		fmt.Println("ptrace:", e)
	case "socket":
		_, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		fmt.Println("socket:", err)
	case "futex-shared":
		var w uint32
		_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w)), 1 /* FUTEX_WAKE, not private */, 1, 0, 0, 0)
		fmt.Println("futex:", e)
	case "futex-requeue":
		var w uint32
		_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w)), 4 /* FUTEX_CMP_REQUEUE, not private */, 1, 0, uintptr(unsafe.Pointer(&w)), 0)
		fmt.Println("futex:", e)
	default:
		fmt.Println("unknown action", what)
		return 2
	}
	fmt.Println("survived")
	return 0
}

// runChild runs the test binary as a filtered child doing what, in new PID,
// mount, UTS and IPC namespaces so that nothing it attempts can reach the
// host even if the filter failed.
func runChild(t *testing.T, what string) (syscall.WaitStatus, string, int) {
	t.Helper()
	started = seccomp.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+what)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		Setsid:     true,
	}
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("running child: %v", err)
	}
	return cmd.ProcessState.Sys().(syscall.WaitStatus), out.String(), cmd.Process.Pid
}

func TestFilterAllowsGoRuntime(t *testing.T) {
	ws, out, pid := runChild(t, "allowed")
	if ws.Signaled() || ws.ExitStatus() != 0 || !strings.Contains(out, "survived") {
		refused := "unknown syscall"
		if nr, err := seccomp.FindKill(pid, started, time.Second); err == nil {
			refused = seccomp.SyscallName(nr)
		}
		t.Fatalf("child under the sentry filter: %v (refused: %s), output:\n%s", ws, refused, out)
	}
}

// A forbidden host syscall made by the sentry kills the sentry: the filter
// acts with SECCOMP_RET_KILL_PROCESS, so the process dies of SIGSYS before
// the call does anything, and the kernel's audit record names the call.
func TestForbiddenSyscallKills(t *testing.T) {
	for _, c := range []struct{ what, syscall string }{
		{"openat", "openat"},
		{"wx-mmap", "mmap"},
		{"x-mprotect", "mprotect"},
		{"tiocsti", "ioctl"},
		{"fork", "clone"},
		{"kill-broadcast", "kill"},
		{"ptrace-attach", "ptrace"},
		{"socket", "socket"},
		{"futex-shared", "futex"},
		{"futex-requeue", "futex"},
	} {
		t.Run(c.what, func(t *testing.T) {
			if c.what == "futex-shared" && childPlatform() == "systrap" {
				t.Skip("systrap hands stub threads over with shared-memory FUTEX_WAKE")
			}
			ws, out, pid := runChild(t, c.what)
			if !strings.Contains(out, "installed") {
				t.Fatalf("child did not install the filter: %s", out)
			}
			if !ws.Signaled() || ws.Signal() != unix.SIGSYS || strings.Contains(out, "survived") {
				t.Fatalf("child status %v (want killed by SIGSYS), output:\n%s", ws, out)
			}
			// What the CLI tells the user: the refused call, from the
			// kernel's audit record (when the kernel log is readable).
			nr, err := seccomp.FindKill(pid, started, time.Second)
			if err != nil {
				t.Logf("no audit record to check: %v", err)
				return
			}
			if got := seccomp.SyscallName(nr); got != c.syscall {
				t.Errorf("audit record names %s, want %s", got, c.syscall)
			}
		})
	}
}
