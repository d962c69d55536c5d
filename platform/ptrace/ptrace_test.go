package ptrace

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"

	"pangolin/platform"
	"pangolin/platform/internal/stubproc"
	"pangolin/platform/platformtest"
)

var testPlatform *Platform

func TestMain(m *testing.M) { platformtest.Main(m, New, &testPlatform) }

func config() platformtest.Config {
	return platformtest.Config{
		Platform:    testPlatform,
		StubPID:     func(as platform.AddressSpace) int { return as.(*addressSpace).leader.TGID },
		ErrReleased: ErrReleased,
		ErrStubDied: ErrStubDied,
		MasterPID:   func() int { return testPlatform.master.stub.TGID },
	}
}

// TestConformance runs the platform conformance suite.
func TestConformance(t *testing.T) { platformtest.Run(t, config()) }

func newEnv(t testing.TB) *platformtest.Env { return platformtest.NewEnv(t, config()) }

func leaderOf(e *platformtest.Env) *thread { return e.AddressSpace().(*addressSpace).leader }

func TestStubLayout(t *testing.T) {
	if len(stubCode) > stubproc.PageSize {
		t.Fatalf("stub is %d bytes, page is %d", len(stubCode), stubproc.PageSize)
	}
	for _, c := range []struct {
		name string
		off  int
		want []byte
	}{
		{"syscall site", stubSyscallOffset, []byte{0x0f, 0x05, 0xcc}},
		{"clone site", stubCloneOffset, []byte{0x0f, 0x05, 0x48, 0x85, 0xc0}},
		{"zero", stubZeroOffset, make([]byte, 32)},
	} {
		if got := stubCode[c.off : c.off+len(c.want)]; !bytes.Equal(got, c.want) {
			t.Errorf("%s at %#x = % x, want % x", c.name, c.off, got, c.want)
		}
	}
	// Both lea zero(%rip) in the entry code must point at stubZeroOffset.
	for _, end := range []int{0x39, 0x72} {
		disp := int(int32(binary.LittleEndian.Uint32(stubCode[end-4:])))
		if end+disp != stubZeroOffset {
			t.Errorf("lea ending at %#x targets %#x", end, end+disp)
		}
	}
}

// The stub process must hold nothing but the stub page and what we map.
func TestEmptyAddressSpace(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(t)
	defer e.Close()
	want := map[uint64]bool{platformtest.CodeAddr: true, platformtest.DataAddr: true, uint64(testPlatform.stub.Start): true}
	for start, perms := range platformtest.Mappings(t, leaderOf(e).TGID) {
		if !want[start] {
			t.Errorf("unexpected mapping in stub at %#x (%s)", start, perms)
		}
	}
	if got := testPlatform.MaxUserAddress(); got != testPlatform.stub.Start || got&0xfff != 0 {
		t.Errorf("MaxUserAddress = %#x", got)
	}
}

func BenchmarkSyscallRoundTrip(b *testing.B) { platformtest.BenchmarkSyscallRoundTrip(b, config()) }
func BenchmarkAddressSpace(b *testing.B)     { platformtest.BenchmarkAddressSpace(b, config()) }
