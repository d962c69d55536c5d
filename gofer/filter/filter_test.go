package filter

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/seccomp"
)

func TestRulesCompile(t *testing.T) {
	if err := seccomp.Check(Rules()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d host syscalls: %s", len(seccomp.Allowed(Rules())), strings.Join(seccomp.Allowed(Rules()), " "))
}

// The gofer touches files, never processes, devices, sockets or code.
func TestNoDangerousSyscalls(t *testing.T) {
	forbidden := []string{
		"ioctl", "ptrace", "process_vm_readv", "process_vm_writev", "kill", "wait4", "execve", "execveat",
		"fork", "vfork", "socket", "socketpair", "connect", "bind", "mount", "umount2", "pivot_root", "chroot",
		"unshare", "setns", "setuid", "setresuid", "capset", "prctl", "seccomp", "bpf", "perf_event_open",
		"userfaultfd", "io_uring_setup", "keyctl", "init_module", "finit_module", "kexec_load", "reboot",
		"settimeofday", "clock_settime", "sethostname", "pread64", "pwrite64", "readv", "writev",
		"open", "creat", "open_by_handle_at", "chdir", "fchdir", "memfd_create",
	}
	allowed := map[string]bool{}
	for _, n := range seccomp.Allowed(Rules()) {
		allowed[n] = true
	}
	for _, n := range forbidden {
		if allowed[n] {
			t.Errorf("%s is allowed", n)
		}
	}
}

const childEnv = "PANGOLIN_GOFER_FILTER_TEST_CHILD"

func TestMain(m *testing.M) {
	if what := os.Getenv(childEnv); what != "" {
		os.Exit(child(what, os.Getenv(childEnv+"_DIR")))
	}
	os.Exit(m.Run())
}

// child installs the gofer filter and performs what inside dir.
func child(what, dir string) int {
	d, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Println("open dir:", err)
		return 2
	}
	if err := seccomp.Install(Rules()); err != nil {
		fmt.Println("install:", err)
		return 2
	}
	fmt.Println("installed")
	switch what {
	case "allowed":
		// What the server does: walk, create exclusively, reopen, stat.
		fd, err := unix.Openat(d, "f", unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == nil {
			unix.Close(fd)
			fd, err = unix.Openat(d, "f", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		if err == nil {
			var st unix.Stat_t
			err = unix.Fstatat(fd, "", &st, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
		}
		if err == nil {
			err = unix.Mknodat(d, "fifo", unix.S_IFIFO|0o600, 0)
		}
		if err != nil {
			fmt.Println("allowed op failed:", err)
			return 1
		}
	case "mknod-device":
		err := unix.Mknodat(d, "null", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3)))
		fmt.Println("mknod:", err)
	case "open-creat":
		fd, err := unix.Openat(d, "g", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
		fmt.Println("open:", fd, err)
	case "ioctl":
		_, err := unix.IoctlGetTermios(0, unix.TCGETS)
		fmt.Println("ioctl:", err)
	case "ptrace":
		_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_ATTACH, 1, 0, 0, 0, 0)
		fmt.Println("ptrace:", e)
	case "pread":
		var b [1]byte
		_, err := unix.Pread(0, b[:], 0)
		fmt.Println("pread:", err)
	default:
		fmt.Println("unknown action", what)
		return 2
	}
	fmt.Println("survived")
	return 0
}

func runChild(t *testing.T, what string) (syscall.WaitStatus, string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+what, childEnv+"_DIR="+dir)
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
	if what != "allowed" {
		if _, err := os.Lstat(filepath.Join(dir, "null")); err == nil {
			t.Errorf("a device node was created")
		}
	}
	return cmd.ProcessState.Sys().(syscall.WaitStatus), out.String()
}

func TestFilterAllowsServerOps(t *testing.T) {
	ws, out := runChild(t, "allowed")
	if ws.Signaled() || ws.ExitStatus() != 0 || !strings.Contains(out, "survived") {
		t.Fatalf("child under the gofer filter: %v, output:\n%s", ws, out)
	}
}

func TestForbiddenSyscallKills(t *testing.T) {
	for _, what := range []string{"mknod-device", "open-creat", "ioctl", "ptrace", "pread"} {
		t.Run(what, func(t *testing.T) {
			ws, out := runChild(t, what)
			if !strings.Contains(out, "installed") {
				t.Fatalf("child did not install the filter: %s", out)
			}
			if !ws.Signaled() || ws.Signal() != unix.SIGSYS || strings.Contains(out, "survived") {
				t.Fatalf("child status %v (want killed by SIGSYS), output:\n%s", ws, out)
			}
		})
	}
}
