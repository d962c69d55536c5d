package systrap

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawClone is implemented in clone_amd64.s.
//
//go:noescape
func rawClone(flags, entry, ppid uintptr) (pid uintptr, errno uintptr)

// sockFprog is struct sock_fprog (linux/filter.h).
type sockFprog struct {
	len    uint16
	_      [6]byte
	filter *byte
}

// heapFilter is a BPF program held where a freshly cloned master stub can
// still read it: in the Go heap, copied into the child by rawClone at the
// same addresses.
type heapFilter struct {
	prog  []byte
	fprog *sockFprog
}

func newHeapFilter(prog []byte) *heapFilter {
	return &heapFilter{prog: prog, fprog: &sockFprog{len: uint16(len(prog) / 8), filter: &prog[0]}}
}

// addr returns the address of the sock_fprog.
//
// SAFETY: fprog and prog are heap objects referenced by f, which the
// Platform keeps for its lifetime, so the garbage collector neither frees
// nor moves them; the uintptr is only handed to the master stub's
// seccomp(2), which runs in its copy of the sentry's memory.
func (f *heapFilter) addr() uintptr { return uintptr(unsafe.Pointer(f.fprog)) }

// installStub maps one page at the highest free candidate address below the
// top of the 47-bit user address space (leaving room for the shared region
// below it), copies the stub into it and makes it read+exec.
func installStub(code []byte) (uintptr, error) {
	const top = 0x7fffffff0000
	const step = 0x10000
	var lastErr error = unix.ENOMEM
	for addr := uintptr(top); addr >= top-(1<<32); addr -= step {
		r, _, e := unix.RawSyscall6(unix.SYS_MMAP, addr, pageSize,
			unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, ^uintptr(0), 0)
		if e != 0 {
			lastErr = e
			continue
		}
		if r != addr {
			unix.RawSyscall(unix.SYS_MUNMAP, r, pageSize, 0)
			continue
		}
		// SAFETY: [addr, addr+pageSize) was just mapped read/write by us
		// and is not Go heap memory (see platform/ptrace.installStub).
		page := unsafe.Slice(*(**byte)(unsafe.Pointer(&addr)), pageSize)
		for i := range page {
			page[i] = 0xcc // int3
		}
		copy(page, code)
		if _, _, e := unix.RawSyscall(unix.SYS_MPROTECT, addr, pageSize, unix.PROT_READ|unix.PROT_EXEC); e != 0 {
			unix.RawSyscall(unix.SYS_MUNMAP, addr, pageSize, 0)
			return 0, e
		}
		return addr, nil
	}
	return 0, lastErr
}

// stubCode returns the bytes of the stub, [stubBegin, stubEnd) as linked.
//
// SAFETY: the range is the text of this package's assembly functions,
// which is mapped read-only for the life of the process; it is only read.
func stubCode(begin, end uintptr) []byte {
	return unsafe.Slice(*(**byte)(unsafe.Pointer(&begin)), end-begin)
}

// The ptrace helpers pass a pointer to Go memory as the data argument.
// SAFETY (all of them): the pointer is converted in the argument list of
// unix.RawSyscall6, so the referent stays alive and in place for the call;
// the kernel writes at most the referent's size (user_regs_struct, which
// unix.PtraceRegs mirrors; sizeof(rseqConfig), passed as addr).

func ptraceGetRegs(tid int, regs *unix.PtraceRegs) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGS, uintptr(tid), 0, uintptr(unsafe.Pointer(regs)), 0, 0)
	return errnoErr(e)
}

func ptraceSetRegs(tid int, regs *unix.PtraceRegs) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_SETREGS, uintptr(tid), 0, uintptr(unsafe.Pointer(regs)), 0, 0)
	return errnoErr(e)
}

func ptraceGetRseqConfig(tid int, c *rseqConfig) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_GET_RSEQ_CONFIGURATION, uintptr(tid), unsafe.Sizeof(*c), uintptr(unsafe.Pointer(c)), 0, 0)
	return errnoErr(e)
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
