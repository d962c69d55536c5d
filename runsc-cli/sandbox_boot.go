package main

import (
	"fmt"
	"io"
	"os"

	"pangolin/fs/proc"
	"pangolin/sentry/kernel"
	"pangolin/sentry/memfile"
)

// bootPrepare does the sentry's first steps, common to `do` and OCI boots:
// it takes the host's /proc/cpuinfo from the descriptor stage 1 opened.
//
// The sentry stays dumpable: it must ptrace its stubs without capabilities.
// No other host process can attach to it or read its memory anyway: in its
// own user namespace, even one with its host UID (nobody) would need
// CAP_SYS_PTRACE there (cap_ptrace_access_check()), which only the
// namespace's owner, the host's root, has.
func bootPrepare(c *bootConfig) error {
	if c.cpuinfoFD >= 0 {
		f := os.NewFile(uintptr(c.cpuinfoFD), "cpuinfo")
		data, err := io.ReadAll(io.LimitReader(f, 4<<20))
		f.Close()
		if err != nil {
			return fmt.Errorf("reading /proc/cpuinfo: %w", err)
		}
		proc.SetHostCPUInfo(data)
	}
	return nil
}

// Memory accounting between the sandbox's host cgroup and the application.
// The cgroup bounds everything the sandbox's processes use on the host: the
// application's memory (the memory file), the sentry's own heap, page
// tables and page cache, the gofer. The sentry stops the application first,
// at the application limit, by failing its allocations (a fault that cannot
// be served kills it, as the OOM killer would), so that the host's OOM
// killer never has to choose: it would pick the sentry.
const (
	minMemoryReserve = 64 << 20
	maxMemoryReserve = 512 << 20
)

// memoryReserve is the part of a sandbox's host memory limit kept for the
// sandbox's own processes.
func memoryReserve(limit uint64) uint64 {
	return min(max(limit/8, minMemoryReserve), maxMemoryReserve)
}

// appMemoryLimit is the application's share of a host memory limit.
func appMemoryLimit(hostLimit uint64) uint64 {
	r := memoryReserve(hostLimit)
	if hostLimit <= 2*r {
		return hostLimit / 2
	}
	return hostLimit - r
}

// applyLimits bounds the application's memory and tasks. memLimit is the
// application's share (0: none).
func applyLimits(k *kernel.Kernel, mf *memfile.File, memLimit uint64, tasks int) {
	if memLimit != 0 {
		k.MemoryLimit = memLimit
		mf.SetLimit(memLimit)
	}
	if tasks > 0 {
		k.SetTaskLimit(tasks)
	}
}
