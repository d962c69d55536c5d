package linux

import (
	"encoding/binary"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"pangolin/sentry/appseccomp"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// seccomp(2) operations and filter flags (include/uapi/linux/seccomp.h).
const (
	seccompSetModeStrict   = 0
	seccompSetModeFilter   = 1
	seccompGetActionAvail  = 2
	seccompGetNotifSizes   = 3
	filterFlagTSync        = 1 << 0
	filterFlagLog          = 1 << 1
	filterFlagSpecAllow    = 1 << 2
	filterFlagNewListener  = 1 << 3
	filterFlagTSyncESRCH   = 1 << 4
	filterFlagWaitKillable = 1 << 5
	filterFlagMask         = 1<<6 - 1
)

// Seccomp implements Linux syscall seccomp(2) (do_seccomp()).
func Seccomp(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	op, flags, uargs := args[0].Uint(), args[1].Uint(), args[2].Pointer()
	switch op {
	case seccompSetModeStrict:
		if flags != 0 || uargs != 0 {
			return 0, unix.EINVAL
		}
		return 0, t.SetSeccompStrict()
	case seccompSetModeFilter:
		return setSeccompFilter(t, flags, uargs)
	case seccompGetActionAvail:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		b := make([]byte, 4)
		if err := t.CopyInBytes(uargs, b); err != nil {
			return 0, err
		}
		if !appseccomp.KnownAction(binary.LittleEndian.Uint32(b)) {
			return 0, unix.EOPNOTSUPP
		}
		return 0, nil
	case seccompGetNotifSizes:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		// struct seccomp_notif_sizes: the sizes of seccomp_notif,
		// seccomp_notif_resp and seccomp_data.
		var b [6]byte
		binary.LittleEndian.PutUint16(b[0:], 80)
		binary.LittleEndian.PutUint16(b[2:], 24)
		binary.LittleEndian.PutUint16(b[4:], appseccomp.DataSize)
		return 0, t.CopyOutBytes(uargs, b[:])
	}
	return 0, unix.EINVAL
}

// setSeccompFilter installs the sock_fprog at uargs
// (seccomp_set_mode_filter()). SECCOMP_FILTER_FLAG_NEW_LISTENER is refused
// with EINVAL: user notification is not implemented, so no listener can
// exist and a filter returning USER_NOTIF fails the syscall with ENOSYS.
// LOG is accepted (the sentry's debug log records every non-allow action)
// and SPEC_ALLOW has nothing to switch off in a sentry.
func setSeccompFilter(t *kernel.Task, flags uint32, uargs uintptr) (uintptr, error) {
	if flags&^filterFlagMask != 0 || flags&filterFlagNewListener != 0 {
		return 0, unix.EINVAL
	}
	if flags&filterFlagWaitKillable != 0 {
		// Only meaningful with a listener.
		return 0, unix.EINVAL
	}
	// struct sock_fprog: u16 len, padding, then the instruction pointer.
	var fprog [16]byte
	if err := t.CopyInBytes(uargs, fprog[:]); err != nil {
		return 0, err
	}
	n := int(binary.LittleEndian.Uint16(fprog[0:]))
	ptr := uintptr(binary.LittleEndian.Uint64(fprog[8:]))
	if n == 0 || n > appseccomp.MaxInsns {
		return 0, unix.EINVAL
	}
	// seccomp_prepare_filter(): a filter must not be able to fool a
	// set-user-ID program it execs, so it needs no_new_privs or admin.
	if !t.NoNewPrivs() && !t.Credentials().HasCapability(unix.CAP_SYS_ADMIN) {
		return 0, unix.EACCES
	}
	raw := make([]byte, 8*n)
	if err := t.CopyInBytes(ptr, raw); err != nil {
		return 0, err
	}
	prog := make([]bpf.RawInstruction, n)
	for i := range prog {
		b := raw[8*i:]
		prog[i] = bpf.RawInstruction{
			Op: binary.LittleEndian.Uint16(b[0:]),
			Jt: b[2],
			Jf: b[3],
			K:  binary.LittleEndian.Uint32(b[4:]),
		}
	}
	f, err := appseccomp.Compile(prog)
	if err != nil {
		return 0, err
	}
	return t.AddSeccompFilter(f, flags&filterFlagTSync != 0, flags&filterFlagTSyncESRCH != 0)
}

// prctlSetSeccomp is prctl(PR_SET_SECCOMP, mode, filter), which maps onto
// seccomp(2) with no flags (prctl_set_seccomp()).
func prctlSetSeccomp(t *kernel.Task, mode uint64, filter uintptr) (uintptr, error) {
	switch mode {
	case kernel.SeccompModeStrict:
		return 0, t.SetSeccompStrict()
	case kernel.SeccompModeFilter:
		return setSeccompFilter(t, 0, filter)
	}
	return 0, unix.EINVAL
}
