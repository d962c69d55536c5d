package seccomp

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// SyscallName returns the name of native syscall nr, or "syscall N".
func SyscallName(nr int) string {
	if n, err := libseccomp.ScmpSyscall(nr).GetName(); err == nil && n != "" {
		return n
	}
	return fmt.Sprintf("syscall %d", nr)
}

// auditSeccomp is AUDIT_SECCOMP, the audit record type the kernel writes
// for a logged seccomp action (kernel/seccomp.c: seccomp_log()). A
// SECCOMP_RET_KILL_PROCESS is logged by default (kernel.seccomp.actions_logged).
const auditSeccomp = "type=1326"

// FindKill looks in the kernel log for the audit record of a seccomp kill of
// the process whose host PID is pid, and returns the refused syscall's
// number. Records older than after (the kernel log's clock: time since boot,
// as CLOCK_MONOTONIC) are ignored, so that an earlier process with the same
// PID cannot be blamed. The record is written asynchronously (kauditd), so
// it polls for up to wait. It fails if the log is not readable or an audit
// daemon took the record (then it is in the audit log instead: ausearch -m
// SECCOMP).
func FindKill(pid int, after, wait time.Duration) (int, error) {
	deadline := time.Now().Add(wait)
	for {
		nr, err := scanKmsg(pid, after)
		if err == nil || !errors.Is(err, errNoRecord) || time.Now().After(deadline) {
			return nr, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var errNoRecord = errors.New("no seccomp audit record in the kernel log")

// scanKmsg reads every record /dev/kmsg still holds (one record per read(2);
// EAGAIN at the end; EPIPE when the reader fell behind an overwrite) and
// returns the syscall of the last matching one.
func scanKmsg(pid int, after time.Duration) (int, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("reading the kernel log: %w", err)
	}
	defer unix.Close(fd)
	want := []byte(" pid=" + strconv.Itoa(pid) + " ")
	buf := make([]byte, 8192)
	nr := -1
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EPIPE || err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		rec := buf[:n]
		if !bytes.Contains(rec, []byte(auditSeccomp)) || !bytes.Contains(rec, want) {
			continue
		}
		// "PRIO,SEQ,USEC,FLAGS;message" (Documentation/ABI/testing/dev-kmsg).
		if f := bytes.SplitN(rec, []byte(","), 4); len(f) == 4 {
			if us, err := strconv.ParseInt(string(f[2]), 10, 64); err == nil && time.Duration(us)*time.Microsecond < after {
				continue
			}
		}
		if v, ok := field(rec, "syscall="); ok {
			nr = v
		}
	}
	if nr < 0 {
		return -1, errNoRecord
	}
	return nr, nil
}

// field parses the decimal value after key in rec.
func field(rec []byte, key string) (int, bool) {
	i := bytes.Index(rec, []byte(" "+key))
	if i < 0 {
		return 0, false
	}
	rest := rec[i+1+len(key):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	v, err := strconv.Atoi(string(rest[:j]))
	return v, err == nil
}

// Now returns the kernel log's clock (CLOCK_MONOTONIC), for FindKill's after.
func Now() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}
