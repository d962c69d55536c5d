package stubproc

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sockFprog is struct sock_fprog (linux/filter.h): the argument of
// seccomp(SECCOMP_SET_MODE_FILTER).
type sockFprog struct {
	len    uint16 // number of 8-byte sock_filter instructions
	_      [6]byte
	filter *byte
}

// Filter is a BPF program held where a freshly cloned master stub can still
// read it: in the Go heap, whose objects never move, copied into the child
// by rawClone at the same addresses.
type Filter struct {
	prog  []byte
	fprog *sockFprog
}

// NewFilter wraps the classic BPF program prog (8-byte sock_filter
// instructions).
func NewFilter(prog []byte) *Filter {
	return &Filter{prog: prog, fprog: &sockFprog{len: uint16(len(prog) / 8), filter: &prog[0]}}
}

// addr returns the address of the sock_fprog, valid in the sentry and, until
// it erases its copy of the sentry, in the master stub.
//
// SAFETY: fprog and prog are heap objects referenced by f, which the
// platform keeps for its lifetime, so the garbage collector neither frees
// nor moves them; the uintptr is only handed to the master stub's
// seccomp(2), which runs in its copy of the sentry's memory.
func (f *Filter) addr() uintptr { return uintptr(unsafe.Pointer(f.fprog)) }

// InstallStub maps one page at the highest free candidate address below the
// top of the 47-bit user address space, fills it with int3, copies code to
// its start and makes it read+exec. The platform reserves whatever it needs
// below the page itself. MAP_FIXED_NOREPLACE (Linux 4.17) fails with EEXIST
// instead of clobbering a mapping of the sentry; older kernels treat it as a
// hint, which the address check catches.
func InstallStub(code []byte) (uintptr, error) {
	const top = 0x7fffffff0000
	const step = 0x10000
	if len(code) > PageSize {
		return 0, unix.E2BIG
	}
	var lastErr error = unix.ENOMEM
	for addr := uintptr(top); addr >= top-(1<<32); addr -= step {
		r, _, e := unix.RawSyscall6(unix.SYS_MMAP, addr, PageSize,
			unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, ^uintptr(0), 0)
		if e != 0 {
			lastErr = e
			continue
		}
		if r != addr {
			unix.RawSyscall(unix.SYS_MUNMAP, r, PageSize, 0)
			continue
		}
		// SAFETY: [addr, addr+PageSize) was just mapped read/write by us
		// and nothing else knows about it. It is not Go heap memory, so
		// the garbage collector ignores pointers into it; the value is
		// reinterpreted through memory rather than converted because
		// the uintptr did not come from an unsafe.Pointer (which go vet
		// rightly flags in general).
		page := unsafe.Slice(*(**byte)(unsafe.Pointer(&addr)), PageSize)
		for i := range page {
			page[i] = 0xcc // int3
		}
		copy(page, code)
		if _, _, e := unix.RawSyscall(unix.SYS_MPROTECT, addr, PageSize, unix.PROT_READ|unix.PROT_EXEC); e != 0 {
			unix.RawSyscall(unix.SYS_MUNMAP, addr, PageSize, 0)
			return 0, e
		}
		return addr, nil
	}
	return 0, lastErr
}

// The helpers below issue ptrace(2) requests whose data argument points into
// Go memory. SAFETY (all of them): the pointer is converted to uintptr in the
// argument list of unix.RawSyscall6, an assembly function, so the compiler
// keeps the referent alive and in place for the call; RawSyscall6 does not
// enter the scheduler, so a stack-allocated referent cannot move either. The
// kernel writes at most the size of the referenced object: user_regs_struct
// for GETREGS (which unix.PtraceRegs mirrors), 128 bytes (sizeof(siginfo_t))
// for GETSIGINFO, iov_len bytes for GETREGSET, 512 bytes
// (user_i387_struct) for GETFPREGS, sizeof(rseqConfig) (passed as addr) for
// GET_RSEQ_CONFIGURATION.

// GetRegs is PTRACE_GETREGS.
func GetRegs(tid int, regs *unix.PtraceRegs) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGS, uintptr(tid), 0, uintptr(unsafe.Pointer(regs)), 0, 0)
	return errnoErr(e)
}

// SetRegs is PTRACE_SETREGS.
func SetRegs(tid int, regs *unix.PtraceRegs) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_SETREGS, uintptr(tid), 0, uintptr(unsafe.Pointer(regs)), 0, 0)
	return errnoErr(e)
}

// GetRegset reads regset note into buf and returns the length the kernel
// filled in (it truncates to len(buf) and reports the smaller of the two,
// ptrace_regset() in kernel/ptrace.c).
func GetRegset(tid int, note uintptr, buf []byte) (int, error) {
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGSET, uintptr(tid), note, uintptr(unsafe.Pointer(&iov)), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(iov.Len), nil
}

// SetRegset writes buf as regset note. For NT_X86_XSTATE the kernel insists
// that len(buf) is exactly the host's user xstate size (xstateregs_set() in
// arch/x86/kernel/fpu/regset.c).
func SetRegset(tid int, note uintptr, buf []byte) error {
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_SETREGSET, uintptr(tid), note, uintptr(unsafe.Pointer(&iov)), 0, 0)
	return errnoErr(e)
}

// GetFPRegs and SetFPRegs move the 512-byte FXSAVE image; they are the
// fallback for hosts without XSAVE.
func GetFPRegs(tid int, buf *[512]byte) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_GETFPREGS, uintptr(tid), 0, uintptr(unsafe.Pointer(buf)), 0, 0)
	return errnoErr(e)
}

// SetFPRegs is PTRACE_SETFPREGS; see GetFPRegs.
func SetFPRegs(tid int, buf *[512]byte) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_SETFPREGS, uintptr(tid), 0, uintptr(unsafe.Pointer(buf)), 0, 0)
	return errnoErr(e)
}

// GetSiginfo is PTRACE_GETSIGINFO.
func GetSiginfo(tid int, si *Siginfo) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_GETSIGINFO, uintptr(tid), 0, uintptr(unsafe.Pointer(si)), 0, 0)
	return errnoErr(e)
}

// rseqConfig is struct ptrace_rseq_configuration (linux/ptrace.h).
type rseqConfig struct {
	ptr   uint64
	size  uint32
	sig   uint32
	flags uint32
	_     uint32
}

// getRseqConfig reads tid's rseq registration (Linux 5.13+). The kernel
// copies min(addr, sizeof) bytes (ptrace_get_rseq_configuration()).
func getRseqConfig(tid int, c *rseqConfig) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_GET_RSEQ_CONFIGURATION, uintptr(tid), unsafe.Sizeof(*c), uintptr(unsafe.Pointer(c)), 0, 0)
	return errnoErr(e)
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
