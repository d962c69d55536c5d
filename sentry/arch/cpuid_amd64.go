package arch

func cpuid(eax, ecx uint32) (a, b, c, d uint32)

// xsaveSize is the size of the XSAVE area for the features the host kernel
// enabled in XCR0 (CPUID leaf 0xD, sub-leaf 0, EBX), what signal frames and
// PTRACE_GETREGSET carry.
var xsaveSize = func() int {
	a, _, _, _ := cpuid(0, 0)
	if a < 0xd {
		return 512
	}
	_, b, _, _ := cpuid(0xd, 0)
	if b < 576 || b > XSAVEAreaSize {
		return 512 + 64
	}
	return int(b)
}()

// XSAVESize returns the host's XSAVE area size in bytes.
func XSAVESize() int { return xsaveSize }

// XFeatures returns the XSAVE feature mask enabled by the host (XCR0's value
// as CPUID leaf 0xD reports it in EDX:EAX).
func XFeatures() uint64 {
	a, _, _, d := cpuid(0xd, 0)
	return uint64(d)<<32 | uint64(a)
}

// InvariantTSC reports whether the time stamp counter runs at a constant
// rate in every power state (CPUID 0x80000007 EDX bit 8, which Linux reports
// as constant_tsc and nonstop_tsc), so that it can serve as a clock.
func InvariantTSC() bool {
	if a, _, _, _ := cpuid(0x80000000, 0); a < 0x80000007 {
		return false
	}
	_, _, _, d := cpuid(0x80000007, 0)
	return d&(1<<8) != 0
}
