package seccomp

// #include <malloc.h>
import "C"

import (
	"runtime"
	"time"
)

// arenaMax bounds glibc's malloc arenas. Once a process has more than
// arena_test (8) arenas, glibc computes its arena limit lazily from the CPU
// count by reading /sys/devices/system/cpu/online (arena_get2() ->
// __get_nprocs_sched()): an openat(2) that a filtered process is not allowed
// to make, from whichever new thread first mallocs. Fixing the limit up
// front removes that lookup. The only C code here is libseccomp and cgo's
// thread glue, so a few shared arenas are plenty.
const arenaMax = 8

// prepareProcess makes lazy steps of glibc and of the Go runtime that would
// need syscalls outside a filter happen, or not be needed, before Load.
func prepareProcess() {
	C.mallopt(C.M_ARENA_MAX, arenaMax)
	// Since Go 1.25 sysmon re-evaluates GOMAXPROCS about once a second,
	// with sched_getaffinity(2) and reads of the cgroup CPU limit. Setting
	// it explicitly turns that off (runtime.GOMAXPROCS); it waits for a
	// check in flight (computeMaxProcsLock), so none runs after Load.
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	// time.Local is loaded on first use (/etc/localtime, $TZ): formatting
	// a local time afterwards (a log line, a JSON timestamp) would openat.
	_, _ = time.Now().Zone()
}
