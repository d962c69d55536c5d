package stubproc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/platform"
)

// SiginfoSize is sizeof(siginfo_t).
const SiginfoSize = 128

// siKernel is SI_KERNEL: the signal was raised by the kernel without a
// fault address (e.g. #GP from a privileged instruction).
const siKernel = 0x80

// Siginfo is a raw siginfo_t (x86-64 layout), as PTRACE_GETSIGINFO or a
// signal frame has it.
type Siginfo [SiginfoSize]byte

// Code returns si_code: <= 0 for a signal a process sent (SI_USER,
// SI_TKILL, SI_QUEUE...), > 0 for one the kernel raised.
func (si *Siginfo) Code() int32 { return int32(binary.LittleEndian.Uint32(si[8:])) }

// Pid returns _kill.si_pid, the sender of a signal a process sent.
func (si *Siginfo) Pid() int { return int(int32(binary.LittleEndian.Uint32(si[16:]))) }

// Addr returns _sigfault.si_addr of a fault.
func (si *Siginfo) Addr() uintptr { return uintptr(binary.LittleEndian.Uint64(si[16:])) }

// Arch returns _sigsys._arch of a SIGSYS (the audit architecture of the
// call).
func (si *Siginfo) Arch() uint32 { return binary.LittleEndian.Uint32(si[28:]) }

// SignalExit describes signal sig that the kernel raised for app code: a
// fault for SIGSEGV or SIGBUS from a memory access, a signal otherwise
// (including SIGSEGV with SI_KERNEL, which has no address). The platform
// fills in Access of a fault.
func SignalExit(sig unix.Signal, si *Siginfo) platform.Exit {
	exit := platform.Exit{Signo: int(sig), Code: si.Code(), Addr: si.Addr()}
	if (sig == unix.SIGSEGV || sig == unix.SIGBUS) && exit.Code != siKernel {
		exit.Kind = platform.ExitFault
	} else {
		exit.Kind = platform.ExitSignal
	}
	return exit
}
