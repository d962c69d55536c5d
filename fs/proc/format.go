package proc

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"pangolin/sentry/limits"
)

// Pure formatters: each renders one file from a snapshot, so the formats
// can be tested without tasks.

// clockTicks is USER_HZ.
const clockTicks = 100

// pageSize is PAGE_SIZE.
const pageSize = 4096

// taskStat is what /proc/PID/stat shows (do_task_stat() in
// fs/proc/array.c). Fields we do not track stay zero.
type taskStat struct {
	PID                                int32
	Comm                               string
	State                              byte
	PPID, PGID, SID                    int32
	TTYNr, TTYPgrp                     int32
	Flags                              uint32
	MinFlt, CMinFlt, MajFlt, CMajFlt   uint64
	UTime, STime                       uint64 // clock ticks
	CUTime, CSTime                     int64  // clock ticks
	Priority, Nice                     int64
	NumThreads                         int64
	StartTime                          uint64 // clock ticks after boot
	VSize                              uint64 // bytes
	RSS                                uint64 // pages
	RSSLim                             uint64
	StartCode, EndCode, StartStack     uint64
	ESP, EIP                           uint64
	Pending, Blocked, SigIgn, SigCatch uint64
	WChan                              uint64
	ExitSignal                         int32
	Processor                          int32
	RTPriority, Policy                 uint32
	BlkioTicks, GTime                  uint64
	CGTime                             int64
	StartData, EndData, StartBrk       uint64
	ArgStart, ArgEnd, EnvStart, EnvEnd uint64
	ExitCode                           int32
}

// formatStat renders /proc/PID/stat: 52 space-separated fields
// (do_task_stat()).
func formatStat(s *taskStat) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%d (%s) %c", s.PID, s.Comm, s.State)
	d := func(v int64) { b.WriteByte(' '); b.WriteString(strconv.FormatInt(v, 10)) }
	u := func(v uint64) { b.WriteByte(' '); b.WriteString(strconv.FormatUint(v, 10)) }
	const sigMask = 0x7fffffff // the obsolete decimal signal fields
	d(int64(s.PPID))
	d(int64(s.PGID))
	d(int64(s.SID))
	d(int64(s.TTYNr))
	d(int64(s.TTYPgrp))
	u(uint64(s.Flags))
	u(s.MinFlt)
	u(s.CMinFlt)
	u(s.MajFlt)
	u(s.CMajFlt)
	u(s.UTime)
	u(s.STime)
	d(s.CUTime)
	d(s.CSTime)
	d(s.Priority)
	d(s.Nice)
	d(s.NumThreads)
	u(0) // itrealvalue
	u(s.StartTime)
	u(s.VSize)
	u(s.RSS)
	u(s.RSSLim)
	u(s.StartCode)
	u(s.EndCode)
	u(s.StartStack)
	u(s.ESP)
	u(s.EIP)
	u(s.Pending & sigMask)
	u(s.Blocked & sigMask)
	u(s.SigIgn & sigMask)
	u(s.SigCatch & sigMask)
	u(s.WChan)
	u(0) // nswap
	u(0) // cnswap
	d(int64(s.ExitSignal))
	d(int64(s.Processor))
	u(uint64(s.RTPriority))
	u(uint64(s.Policy))
	u(s.BlkioTicks)
	u(s.GTime)
	d(s.CGTime)
	u(s.StartData)
	u(s.EndData)
	u(s.StartBrk)
	u(s.ArgStart)
	u(s.ArgEnd)
	u(s.EnvStart)
	u(s.EnvEnd)
	d(int64(s.ExitCode))
	b.WriteByte('\n')
	return []byte(b.String())
}

// formatStatm renders /proc/PID/statm (proc_pid_statm()), in pages.
func formatStatm(size, resident, shared, text, data uint64) []byte {
	return fmt.Appendf(nil, "%d %d %d %d 0 %d 0\n", size, resident, shared, text, data)
}

// taskStatus is what /proc/PID/status shows (proc_pid_status() in
// fs/proc/array.c).
type taskStatus struct {
	Name  string
	Umask int // -1: none
	State string
	Tgid  int32
	Pid   int32
	PPid  int32
	// NSpgid and NSsid: the process group and session.
	NSpgid, NSsid int32
	Uid           [4]uint32 // real, effective, saved, fs
	Gid           [4]uint32
	FDSize        int
	Groups        []uint32
	// HasMM is set when the task has an address space; the Vm* lines
	// are shown only then. Sizes are in bytes.
	HasMM                    bool
	VmPeak, VmSize, VmHWM    uint64
	VmRSS, RssAnon           uint64
	RssFile, RssShmem        uint64
	VmData, VmStk            uint64
	VmExe, VmLib             uint64
	Threads                  int
	SigQLimit                uint64
	SigPnd, ShdPnd, SigBlk   uint64
	SigIgn, SigCgt           uint64
	CapInh, CapPrm, CapEff   uint64
	CapBnd, CapAmb           uint64
	NoNewPrivs               bool
	Seccomp, SeccompFilters  int
	NumCPU                   int
	VoluntaryCtxtSwitches    uint64
	NonvoluntaryCtxtSwitches uint64
}

// maxNumNodes is MAX_NUMNODES (CONFIG_NODES_SHIFT=10, as in Debian and
// Ubuntu kernels), the width of Mems_allowed.
const maxNumNodes = 1024

// formatStatus renders /proc/PID/status (proc_pid_status(),
// task_state(), task_mem() in fs/proc/task_mmu.c, task_sig(),
// task_cap(), task_seccomp(), task_cpus_allowed(),
// cpuset_task_status_allowed(), task_context_switch_counts()).
func formatStatus(s *taskStatus) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Name:\t%s\n", escapeName(s.Name))
	if s.Umask >= 0 {
		fmt.Fprintf(&b, "Umask:\t%#04o\n", s.Umask)
	}
	fmt.Fprintf(&b, "State:\t%s\n", s.State)
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", s.Tgid, s.Pid, s.PPid)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\n", s.Uid[0], s.Uid[1], s.Uid[2], s.Uid[3])
	fmt.Fprintf(&b, "Gid:\t%d\t%d\t%d\t%d\n", s.Gid[0], s.Gid[1], s.Gid[2], s.Gid[3])
	fmt.Fprintf(&b, "FDSize:\t%d\nGroups:\t", s.FDSize)
	for i, g := range s.Groups {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(uint64(g), 10))
	}
	// "Trailing space shouldn't have been added in the first place."
	b.WriteString(" \n")
	fmt.Fprintf(&b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", s.Tgid, s.Pid, s.NSpgid, s.NSsid)
	if s.HasMM {
		kb := func(name string, v uint64) { fmt.Fprintf(&b, "%s:\t%8d kB\n", name, v>>10) }
		kb("VmPeak", s.VmPeak)
		kb("VmSize", s.VmSize)
		kb("VmLck", 0)
		kb("VmPin", 0)
		kb("VmHWM", s.VmHWM)
		kb("VmRSS", s.VmRSS)
		kb("RssAnon", s.RssAnon)
		kb("RssFile", s.RssFile)
		kb("RssShmem", s.RssShmem)
		kb("VmData", s.VmData)
		kb("VmStk", s.VmStk)
		kb("VmExe", s.VmExe)
		kb("VmLib", s.VmLib)
		kb("VmPTE", 0)
		kb("VmSwap", 0)
		kb("HugetlbPages", 0)
		b.WriteString("CoreDumping:\t0\nTHP_enabled:\t1\n")
	}
	fmt.Fprintf(&b, "Threads:\t%d\nSigQ:\t0/%d\n", s.Threads, s.SigQLimit)
	for _, l := range []struct {
		name string
		v    uint64
	}{
		{"SigPnd", s.SigPnd}, {"ShdPnd", s.ShdPnd}, {"SigBlk", s.SigBlk},
		{"SigIgn", s.SigIgn}, {"SigCgt", s.SigCgt},
		{"CapInh", s.CapInh}, {"CapPrm", s.CapPrm}, {"CapEff", s.CapEff},
		{"CapBnd", s.CapBnd}, {"CapAmb", s.CapAmb},
	} {
		fmt.Fprintf(&b, "%s:\t%016x\n", l.name, l.v)
	}
	nnp := 0
	if s.NoNewPrivs {
		nnp = 1
	}
	fmt.Fprintf(&b, "NoNewPrivs:\t%d\nSeccomp:\t%d\nSeccomp_filters:\t%d\n", nnp, s.Seccomp, s.SeccompFilters)
	b.WriteString("Speculation_Store_Bypass:\tthread vulnerable\n")
	b.WriteString("SpeculationIndirectBranch:\tconditional enabled\n")
	fmt.Fprintf(&b, "Cpus_allowed:\t%s\n", bitmapHex(s.NumCPU, s.NumCPU))
	fmt.Fprintf(&b, "Cpus_allowed_list:\t%s\n", bitmapList(s.NumCPU))
	fmt.Fprintf(&b, "Mems_allowed:\t%s\n", bitmapHex(maxNumNodes, 1))
	fmt.Fprintf(&b, "Mems_allowed_list:\t%s\n", bitmapList(1))
	fmt.Fprintf(&b, "voluntary_ctxt_switches:\t%d\n", s.VoluntaryCtxtSwitches)
	fmt.Fprintf(&b, "nonvoluntary_ctxt_switches:\t%d\n", s.NonvoluntaryCtxtSwitches)
	return []byte(b.String())
}

// escapeName escapes a task name as proc_task_name(escape=true) does:
// seq_escape_str(m, tcomm, ESCAPE_SPACE | ESCAPE_SPECIAL, "\n\\")
// escapes only newline and backslash, as "\n" and "\\".
func escapeName(s string) string {
	if !strings.ContainsAny(s, "\n\\") {
		return s
	}
	return strings.NewReplacer("\n", `\n`, "\\", `\\`).Replace(s)
}

// bitmapHex renders the low `set` bits set in a bitmap of nbits bits as
// the %*pb format does (bitmap_string() in lib/vsprintf.c): 32-bit hex
// chunks separated by commas, the first one only as wide as needed.
func bitmapHex(nbits, set int) string {
	if nbits <= 0 {
		return ""
	}
	chunk := func(i int) uint32 { // bits [i, i+32)
		var v uint32
		for j := 0; j < 32; j++ {
			if i+j < set {
				v |= 1 << j
			}
		}
		return v
	}
	var parts []string
	first := nbits % 32
	if first == 0 {
		first = 32
	}
	width := (first + 3) / 4
	for i := ((nbits+31)/32 - 1) * 32; i >= 0; i -= 32 {
		v := chunk(i)
		if width < 8 {
			v &= 1<<(width*4) - 1
		}
		parts = append(parts, fmt.Sprintf("%0*x", width, v))
		width = 8
	}
	return strings.Join(parts, ",")
}

// bitmapList renders bits [0, n) as the %*pbl format does ("0-3", "0").
func bitmapList(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "0"
	}
	return "0-" + strconv.Itoa(n-1)
}

// limitNames are the rows of /proc/PID/limits (lnames[] in
// fs/proc/base.c), indexed by RLIMIT_*.
var limitNames = [limits.NumLimits]struct{ name, unit string }{
	{"Max cpu time", "seconds"},
	{"Max file size", "bytes"},
	{"Max data size", "bytes"},
	{"Max stack size", "bytes"},
	{"Max core file size", "bytes"},
	{"Max resident set", "bytes"},
	{"Max processes", "processes"},
	{"Max open files", "files"},
	{"Max locked memory", "bytes"},
	{"Max address space", "bytes"},
	{"Max file locks", "locks"},
	{"Max pending signals", "signals"},
	{"Max msgqueue size", "bytes"},
	{"Max nice priority", ""},
	{"Max realtime priority", ""},
	{"Max realtime timeout", "us"},
}

// formatLimits renders /proc/PID/limits (proc_pid_limits()).
func formatLimits(ls [limits.NumLimits]limits.Limit) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	val := func(v uint64) {
		if v == limits.Infinity {
			fmt.Fprintf(&b, "%-20s ", "unlimited")
		} else {
			fmt.Fprintf(&b, "%-20d ", v)
		}
	}
	for i, l := range ls {
		fmt.Fprintf(&b, "%-25s ", limitNames[i].name)
		val(l.Cur)
		val(l.Max)
		if u := limitNames[i].unit; u != "" {
			fmt.Fprintf(&b, "%-10s\n", u)
		} else {
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// meminfoLine is one /proc/meminfo row.
type meminfoLine struct {
	name string
	kb   uint64
}

// memStats is what /proc/meminfo reports, in bytes.
type memStats struct {
	Total, Free, Available, Anon uint64
}

// formatMeminfo renders /proc/meminfo (meminfo_proc_show() in
// fs/proc/meminfo.c, with CONFIG_ZSWAP, CONFIG_TRANSPARENT_HUGEPAGE and
// CONFIG_HUGETLB_PAGE, as distribution kernels have). Values the sandbox
// does not have (swap, page cache, slab) are 0.
func formatMeminfo(m memStats) []byte {
	kb := func(v uint64) uint64 { return v >> 10 }
	lines := []meminfoLine{
		{"MemTotal", kb(m.Total)},
		{"MemFree", kb(m.Free)},
		{"MemAvailable", kb(m.Available)},
		{"Buffers", 0},
		{"Cached", 0},
		{"SwapCached", 0},
		{"Active", kb(m.Anon)},
		{"Inactive", 0},
		{"Active(anon)", kb(m.Anon)},
		{"Inactive(anon)", 0},
		{"Active(file)", 0},
		{"Inactive(file)", 0},
		{"Unevictable", 0},
		{"Mlocked", 0},
		{"SwapTotal", 0},
		{"SwapFree", 0},
		{"Zswap", 0},
		{"Zswapped", 0},
		{"Dirty", 0},
		{"Writeback", 0},
		{"AnonPages", kb(m.Anon)},
		{"Mapped", 0},
		{"Shmem", 0},
		{"KReclaimable", 0},
		{"Slab", 0},
		{"SReclaimable", 0},
		{"SUnreclaim", 0},
		{"KernelStack", 0},
		{"PageTables", 0},
		{"NFS_Unstable", 0},
		{"Bounce", 0},
		{"WritebackTmp", 0},
		// CommitLimit: overcommit_ratio (50%) of RAM, no swap.
		{"CommitLimit", kb(m.Total / 2)},
		{"Committed_AS", kb(m.Anon)},
		{"VmallocTotal", 34359738367},
		{"VmallocUsed", 0},
		{"VmallocChunk", 0},
		{"Percpu", 0},
		{"HardwareCorrupted", 0},
		{"AnonHugePages", 0},
		{"ShmemHugePages", 0},
		{"ShmemPmdMapped", 0},
		{"FileHugePages", 0},
		{"FilePmdMapped", 0},
	}
	var b bytes.Buffer
	for _, l := range lines {
		// show_val_kb(): the label padded to 16 columns, the value
		// right-aligned in 8.
		fmt.Fprintf(&b, "%-16s%8d kB\n", l.name+":", l.kb)
	}
	// hugetlb_report_meminfo() in mm/hugetlb.c.
	b.WriteString("HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\nHugePages_Surp:        0\n")
	fmt.Fprintf(&b, "%-16s%8d kB\n", "Hugepagesize:", 2048)
	fmt.Fprintf(&b, "%-16s%8d kB\n", "Hugetlb:", 0)
	// arch_report_meminfo() in arch/x86/mm/pat/set_memory.c.
	fmt.Fprintf(&b, "%-16s%8d kB\n", "DirectMap4k:", 0)
	fmt.Fprintf(&b, "%-16s%8d kB\n", "DirectMap2M:", 0)
	fmt.Fprintf(&b, "%-16s%8d kB\n", "DirectMap1G:", 0)
	return b.Bytes()
}

// centis renders seconds with two decimals, as /proc/uptime and
// /proc/loadavg do ("%lu.%02lu").
func centis(hundredths uint64) string {
	return fmt.Sprintf("%d.%02d", hundredths/100, hundredths%100)
}

// escapeMount escapes a path for /proc/PID/mounts and mountinfo
// (mangle() / seq_path() with " \t\n\\": octal escapes).
func escapeMount(s string) string {
	if !strings.ContainsAny(s, " \t\n\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, `\%03o`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
