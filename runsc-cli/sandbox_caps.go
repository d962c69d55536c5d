package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Securebits (linux/securebits.h; not in x/sys/unix).
const (
	secbitNoroot                 = 1 << 0
	secbitNorootLocked           = 1 << 1
	secbitNoSetuidFixup          = 1 << 2
	secbitNoSetuidFixupLocked    = 1 << 3
	secbitKeepCapsLocked         = 1 << 5
	secbitNoCapAmbientRaise      = 1 << 6
	secbitNoCapAmbientRaiseLocke = 1 << 7
)

// capNames are the capabilities the confined processes may keep, by name
// for logs and `pangolin syscalls`-style listings.
var capNames = map[int]string{
	unix.CAP_CHOWN:           "CAP_CHOWN",
	unix.CAP_DAC_OVERRIDE:    "CAP_DAC_OVERRIDE",
	unix.CAP_DAC_READ_SEARCH: "CAP_DAC_READ_SEARCH",
	unix.CAP_FOWNER:          "CAP_FOWNER",
	unix.CAP_FSETID:          "CAP_FSETID",
	unix.CAP_SYS_PTRACE:      "CAP_SYS_PTRACE",
}

// lastCap returns the highest capability the kernel knows
// (/proc/sys/kernel/cap_last_cap), or probes for it with PR_CAPBSET_READ
// when /proc is not there.
func lastCap() int {
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return n
		}
	}
	n := 0
	for c := 0; c < 64; c++ {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err != nil {
			break
		}
		n = c
	}
	return n
}

// restrictCapabilities leaves the calling thread with exactly the
// capabilities keep, for itself and for the program it execs next:
//
//   - the bounding set shrinks to keep, so nothing else can ever come back;
//   - securebits NOROOT (and NO_SETUID_FIXUP) with their locks: executing a
//     program as UID 0 no longer grants every capability, which is what
//     would otherwise happen at the exec that follows;
//   - keep is raised as ambient capabilities, the only ones an exec
//     preserves once root is not special, then further ambient raises are
//     locked out;
//   - effective, permitted and inheritable become keep.
//
// Capabilities are per thread: the caller runs on a locked OS thread and
// execs from it, so the new process image has this thread's credentials
// and no other thread's.
func restrictCapabilities(keep []int, last int) error {
	want := map[int]bool{}
	var mask [2]uint32
	for _, c := range keep {
		want[c] = true
		mask[c/32] |= 1 << (c % 32)
	}
	for c := 0; c <= last; c++ {
		if want[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
		}
	}
	bits := secbitNoroot | secbitNorootLocked | secbitNoSetuidFixup | secbitNoSetuidFixupLocked | secbitKeepCapsLocked
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, uintptr(bits), 0, 0, 0); err != nil {
		return fmt.Errorf("securebits: %w", err)
	}
	// CAP_SETPCAP stays effective until the last securebits change.
	setpcap := mask
	setpcap[unix.CAP_SETPCAP/32] |= 1 << (unix.CAP_SETPCAP % 32)
	if err := capset(setpcap, setpcap, mask); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clearing ambient capabilities: %w", err)
	}
	for _, c := range keep {
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c), 0, 0); err != nil {
			return fmt.Errorf("raising ambient %s: %w", capNames[c], err)
		}
	}
	bits |= secbitNoCapAmbientRaise | secbitNoCapAmbientRaiseLocke
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, uintptr(bits), 0, 0, 0); err != nil {
		return fmt.Errorf("securebits: %w", err)
	}
	return capset(mask, mask, mask)
}

func capset(eff, perm, inh [2]uint32) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for i := range data {
		data[i] = unix.CapUserData{Effective: eff[i], Permitted: perm[i], Inheritable: inh[i]}
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}
