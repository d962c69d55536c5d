// Package appseccomp checks and runs the classic BPF programs an application
// installs on its own syscalls with seccomp(2) (kernel/seccomp.c). The
// programs are interpreted by golang.org/x/net/bpf's VM; this package
// validates them the way seccomp_check_filter() does and builds the
// seccomp_data input they read.
package appseccomp

import (
	"encoding/binary"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Limits from include/uapi/linux/filter.h and kernel/seccomp.c.
const (
	// MaxInsns is BPF_MAXINSNS, the longest accepted program.
	MaxInsns = 4096
	// MaxInsnsPerPath bounds the instructions of all stacked filters
	// together, each charged 4 extra (MAX_INSNS_PER_PATH).
	MaxInsnsPerPath = 1 << 15
	// InsnPenalty is the per-filter charge against MaxInsnsPerPath.
	InsnPenalty = 4
	// DataSize is sizeof(struct seccomp_data).
	DataSize = 64
	// memWords is BPF_MEMWORDS, the scratch slots.
	memWords = 16
)

// Return values (include/uapi/linux/seccomp.h): the action is the high 16
// bits, the data the low 16.
const (
	RetKillProcess = 0x80000000
	RetKillThread  = 0x00000000
	RetTrap        = 0x00030000
	RetErrno       = 0x00050000
	RetUserNotif   = 0x7fc00000
	RetTrace       = 0x7ff00000
	RetLog         = 0x7ffc0000
	RetAllow       = 0x7fff0000

	RetActionFull = 0xffff0000
	RetData       = 0x0000ffff
)

// AuditArchX86_64 is AUDIT_ARCH_X86_64, seccomp_data.arch on amd64.
const AuditArchX86_64 = 0xc000003e

// KnownAction reports whether action (already masked with RetActionFull)
// is one SECCOMP_GET_ACTION_AVAIL reports (seccomp_get_action_avail()).
func KnownAction(action uint32) bool {
	switch action {
	case RetKillProcess, RetKillThread, RetTrap, RetErrno, RetUserNotif, RetTrace, RetLog, RetAllow:
		return true
	}
	return false
}

// MoreRestrictive reports whether ret's action takes precedence over
// cur's when stacked filters disagree: Linux compares the actions as signed
// 32-bit numbers and keeps the lowest (seccomp_run_filters()), which puts
// KILL_PROCESS first and ALLOW last.
func MoreRestrictive(ret, cur uint32) bool {
	return int32(ret&RetActionFull) < int32(cur&RetActionFull)
}

// Classic BPF opcode fields (include/uapi/linux/bpf_common.h).
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	sizeW   = 0x00
	modeIMM = 0x00
	modeABS = 0x20
	modeLEN = 0x80
	modeMEM = 0x60

	srcK = 0x00
	srcX = 0x08
	retA = 0x10

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	miscTAX = 0x00
	miscTXA = 0x80
)

// Filter is one validated, ready-to-run program. Immutable.
type Filter struct {
	vm  *bpf.VM
	len int
}

// Len returns the program's instruction count.
func (f *Filter) Len() int { return f.len }

// Compile checks prog the way bpf_check_classic() and
// seccomp_check_filter() do, rewriting the length loads seccomp turns into
// constants, and returns the runnable filter. Every rejection is EINVAL.
func Compile(prog []bpf.RawInstruction) (*Filter, error) {
	n := len(prog)
	if n == 0 || n > MaxInsns {
		return nil, unix.EINVAL
	}
	insns := make([]bpf.Instruction, n)
	for pc, ri := range prog {
		ri, ok := checkInsn(ri, pc, n)
		if !ok {
			return nil, unix.EINVAL
		}
		insns[pc] = disassemble(ri)
	}
	if last := prog[n-1].Op; last != clsRET|srcK && last != clsRET|retA {
		return nil, unix.EINVAL
	}
	if !scratchInitialized(prog) {
		return nil, unix.EINVAL
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		// Compile's checks are stricter than NewVM's; a refusal here
		// is still an invalid program, not a sentry failure.
		return nil, unix.EINVAL
	}
	return &Filter{vm: vm, len: n}, nil
}

// checkInsn validates the instruction at pc of an n-instruction program and
// returns it with seccomp's rewrites applied.
func checkInsn(ri bpf.RawInstruction, pc, n int) (bpf.RawInstruction, bool) {
	switch ri.Op {
	case clsLD | sizeW | modeABS:
		// Only aligned words inside seccomp_data.
		return ri, ri.K < DataSize && ri.K%4 == 0
	case clsLD | sizeW | modeLEN:
		return bpf.RawInstruction{Op: clsLD | modeIMM, K: DataSize}, true
	case clsLDX | sizeW | modeLEN:
		return bpf.RawInstruction{Op: clsLDX | modeIMM, K: DataSize}, true
	case clsRET | srcK, clsRET | retA,
		clsLD | modeIMM, clsLDX | modeIMM,
		clsMISC | miscTAX, clsMISC | miscTXA,
		clsALU | aluNEG:
		return ri, true
	case clsLD | modeMEM, clsLDX | modeMEM, clsST, clsSTX:
		return ri, ri.K < memWords
	case clsJMP | jmpJA:
		return ri, uint64(ri.K) < uint64(n-pc-1)
	}
	switch ri.Op &^ srcX {
	case clsALU | aluADD, clsALU | aluSUB, clsALU | aluMUL, clsALU | aluAND,
		clsALU | aluOR, clsALU | aluXOR:
		return ri, true
	case clsALU | aluDIV:
		return ri, ri.Op&srcX != 0 || ri.K != 0
	case clsALU | aluLSH, clsALU | aluRSH:
		return ri, ri.Op&srcX != 0 || ri.K < 32
	case clsJMP | jmpJEQ, clsJMP | jmpJGT, clsJMP | jmpJGE, clsJMP | jmpJSET:
		return ri, pc+1+int(ri.Jt) < n && pc+1+int(ri.Jf) < n
	}
	return ri, false
}

// disassemble converts a checked instruction for the VM. The VM has no
// NEG, so -A becomes A * 0xffffffff, the same value modulo 2^32.
func disassemble(ri bpf.RawInstruction) bpf.Instruction {
	if ri.Op == clsALU|aluNEG {
		return bpf.ALUOpConstant{Op: bpf.ALUOpMul, Val: 0xffffffff}
	}
	return ri.Disassemble()
}

// scratchInitialized reports whether every scratch load follows a store to
// that slot on all paths (check_load_and_stores()): each instruction's
// valid set is the intersection over the jumps reaching it.
func scratchInitialized(prog []bpf.RawInstruction) bool {
	masks := make([]uint16, len(prog))
	for i := range masks {
		masks[i] = 0xffff
	}
	valid := uint16(0)
	for pc, ri := range prog {
		valid &= masks[pc]
		switch ri.Op {
		case clsST, clsSTX:
			valid |= 1 << ri.K
		case clsLD | modeMEM, clsLDX | modeMEM:
			if valid&(1<<ri.K) == 0 {
				return false
			}
		case clsJMP | jmpJA:
			masks[pc+1+int(ri.K)] &= valid
			valid = 0xffff
		case clsRET | srcK, clsRET | retA:
			valid = 0xffff
		default:
			if ri.Op&0x07 == clsJMP {
				masks[pc+1+int(ri.Jt)] &= valid
				masks[pc+1+int(ri.Jf)] &= valid
				valid = 0xffff
			}
		}
	}
	return true
}

// Data is struct seccomp_data: what a filter sees of a syscall.
type Data struct {
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

// Encode lays d out as the VM's input. seccomp_data is little-endian,
// but the VM reads words big-endian as network packets are; since seccomp
// only allows aligned 32-bit loads, storing each 32-bit field big-endian at
// its little-endian offset (a u64's low word at +0, high at +4) gives every
// load the value the kernel would read.
func (d *Data) Encode(b *[DataSize]byte) {
	be := binary.BigEndian
	be.PutUint32(b[0:], uint32(d.Nr))
	be.PutUint32(b[4:], d.Arch)
	put64 := func(off int, v uint64) {
		be.PutUint32(b[off:], uint32(v))
		be.PutUint32(b[off+4:], uint32(v>>32))
	}
	put64(8, d.InstructionPointer)
	for i, a := range d.Args {
		put64(16+8*i, a)
	}
}

// Run evaluates f on the encoded data and returns the filter's return value.
func (f *Filter) Run(in *[DataSize]byte) uint32 {
	ret, err := f.vm.Run(in[:])
	if err != nil {
		// Compile admitted only instructions the VM runs; an error is
		// a sentry bug, and the safe answer is the strictest action.
		return RetKillProcess
	}
	return uint32(ret)
}
