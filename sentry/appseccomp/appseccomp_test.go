package appseccomp

import (
	"testing"

	"golang.org/x/net/bpf"
)

func stmt(op uint16, k uint32) bpf.RawInstruction { return bpf.RawInstruction{Op: op, K: k} }

func jump(op uint16, k uint32, jt, jf uint8) bpf.RawInstruction {
	return bpf.RawInstruction{Op: op, Jt: jt, Jf: jf, K: k}
}

var retAllow = stmt(clsRET|srcK, RetAllow)

func TestCompileRejects(t *testing.T) {
	long := make([]bpf.RawInstruction, MaxInsns+1)
	for i := range long {
		long[i] = retAllow
	}
	for _, tc := range []struct {
		name string
		prog []bpf.RawInstruction
		ok   bool
	}{
		{"empty", nil, false},
		{"ret only", []bpf.RawInstruction{retAllow}, true},
		{"max length", long[:MaxInsns], true},
		{"too long", long, false},
		{"no final ret", []bpf.RawInstruction{stmt(clsLD|sizeW|modeABS, 0)}, false},
		{"load nr", []bpf.RawInstruction{stmt(clsLD|sizeW|modeABS, 0), retAllow}, true},
		{"load last word", []bpf.RawInstruction{stmt(clsLD|sizeW|modeABS, 60), retAllow}, true},
		{"load past data", []bpf.RawInstruction{stmt(clsLD|sizeW|modeABS, 64), retAllow}, false},
		{"unaligned load", []bpf.RawInstruction{stmt(clsLD|sizeW|modeABS, 6), retAllow}, false},
		{"byte load", []bpf.RawInstruction{stmt(clsLD|0x10|modeABS, 0), retAllow}, false},
		{"indirect load", []bpf.RawInstruction{stmt(clsLD|sizeW|0x40, 0), retAllow}, false},
		{"len", []bpf.RawInstruction{stmt(clsLD|sizeW|modeLEN, 0), stmt(clsLDX|sizeW|modeLEN, 0), retAllow}, true},
		{"jeq in range", []bpf.RawInstruction{jump(clsJMP|jmpJEQ, 0, 1, 0), retAllow, retAllow}, true},
		{"jeq true out of range", []bpf.RawInstruction{jump(clsJMP|jmpJEQ, 0, 2, 0), retAllow, retAllow}, false},
		{"jeq false out of range", []bpf.RawInstruction{jump(clsJMP|jmpJGT|srcX, 0, 0, 2), retAllow, retAllow}, false},
		{"ja in range", []bpf.RawInstruction{stmt(clsJMP|jmpJA, 1), retAllow, retAllow}, true},
		{"ja out of range", []bpf.RawInstruction{stmt(clsJMP|jmpJA, 1), retAllow}, false},
		{"ja huge", []bpf.RawInstruction{stmt(clsJMP|jmpJA, 0xffffffff), retAllow}, false},
		{"mod", []bpf.RawInstruction{stmt(clsALU|0x90, 3), retAllow}, false},
		{"div by 0", []bpf.RawInstruction{stmt(clsALU|aluDIV, 0), retAllow}, false},
		{"div by x", []bpf.RawInstruction{stmt(clsALU|aluDIV|srcX, 0), retAllow}, true},
		{"shift 32", []bpf.RawInstruction{stmt(clsALU|aluLSH, 32), retAllow}, false},
		{"neg", []bpf.RawInstruction{stmt(clsALU|aluNEG, 0), retAllow}, true},
		{"store then load", []bpf.RawInstruction{stmt(clsST, 2), stmt(clsLD|modeMEM, 2), retAllow}, true},
		{"load unset slot", []bpf.RawInstruction{stmt(clsLD|modeMEM, 2), retAllow}, false},
		{"slot stored on one path", []bpf.RawInstruction{
			jump(clsJMP|jmpJEQ, 0, 0, 1), stmt(clsST, 1), stmt(clsLDX|modeMEM, 1), retAllow,
		}, false},
		{"slot 16", []bpf.RawInstruction{stmt(clsSTX, 16), retAllow}, false},
		{"unknown class op", []bpf.RawInstruction{stmt(clsMISC|0x40, 0), retAllow}, false},
	} {
		_, err := Compile(tc.prog)
		if (err == nil) != tc.ok {
			t.Errorf("%s: Compile error %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestEncodeAndRun(t *testing.T) {
	d := Data{Nr: 39, Arch: AuditArchX86_64, InstructionPointer: 0x1122334455667788,
		Args: [6]uint64{0x123456789abcdef0, 0, 0, 0, 0, 0xffffffff00000001}}
	var in [DataSize]byte
	d.Encode(&in)
	// Each test program returns the word at off (RET A).
	for _, tc := range []struct {
		off  uint32
		want uint32
	}{
		{0, 39},
		{4, AuditArchX86_64},
		{8, 0x55667788},
		{12, 0x11223344},
		{16, 0x9abcdef0},
		{20, 0x12345678},
		{56, 1},
		{60, 0xffffffff},
	} {
		f, err := Compile([]bpf.RawInstruction{stmt(clsLD|sizeW|modeABS, tc.off), stmt(clsRET|retA, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Run(&in); got != tc.want {
			t.Errorf("word at %d = %#x, want %#x", tc.off, got, tc.want)
		}
	}
	// NEG: -39 as an unsigned word; LEN: the data size.
	f, err := Compile([]bpf.RawInstruction{stmt(clsLD|sizeW|modeABS, 0), stmt(clsALU|aluNEG, 0), stmt(clsRET|retA, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Run(&in); got != 0xffffffd9 {
		t.Errorf("neg = %#x", got)
	}
	f, err = Compile([]bpf.RawInstruction{stmt(clsLD|sizeW|modeLEN, 0), stmt(clsRET|retA, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Run(&in); got != DataSize {
		t.Errorf("len = %d", got)
	}
}

func TestMoreRestrictive(t *testing.T) {
	order := []uint32{RetKillProcess, RetKillThread, RetTrap, RetErrno, RetUserNotif, RetTrace, RetLog, RetAllow}
	for i := range order {
		for j := range order {
			if got := MoreRestrictive(order[i]|5, order[j]); got != (i < j) {
				t.Errorf("MoreRestrictive(%#x, %#x) = %v", order[i], order[j], got)
			}
		}
	}
}
