package proc

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
)

// What uname(2) reports (sentry/syscalls/linux: Release and the version
// string); /proc must agree with it.
const (
	osRelease = "6.1.0"
	osVersion = "#1 SMP PREEMPT_DYNAMIC Pangolin"
)

// genVersion renders /proc/version (version_proc_show() in
// fs/proc/version.c: linux_proc_banner).
func (fs *Filesystem) genVersion(vfs.Context) ([]byte, error) {
	return []byte("Linux version " + osRelease + " (pangolin@pangolin) (gcc (GCC) 12.2.0, GNU ld (GNU Binutils) 2.40) " + osVersion + "\n"), nil
}

// genKernelCmdline renders /proc/cmdline: the sandbox kernel has no
// boot parameters beyond a root.
func (fs *Filesystem) genKernelCmdline(vfs.Context) ([]byte, error) {
	return []byte("BOOT_IMAGE=/vmlinuz-" + osRelease + " root=/dev/root ro\n"), nil
}

// bootOffset is how long the sandbox claims to have been up when it
// booted: CLOCK_BOOTTIME and sysinfo(2) count from one second, so that
// uptime is never zero (a real kernel has always run a while before its
// first process), and /proc must agree with them.
const bootOffset = time.Second

// uptime returns the time since the sandbox booted (ktime_get_boottime()).
func (fs *Filesystem) uptime() time.Duration { return time.Since(fs.k.Boot) + bootOffset }

// genUptime renders /proc/uptime (uptime_proc_show()): uptime and idle
// time summed over CPUs. We do not account idle time; we report every
// CPU idle for the whole uptime, as a quiet machine would.
func (fs *Filesystem) genUptime(vfs.Context) ([]byte, error) {
	up := uint64(fs.uptime() / (10 * time.Millisecond))
	return []byte(centis(up) + " " + centis(up*uint64(runtime.NumCPU())) + "\n"), nil
}

// runningThreads counts the tasks (threads) in the sandbox.
func (fs *Filesystem) runningThreads() int { return len(fs.k.Tasks()) }

// genLoadavg renders /proc/loadavg (loadavg_proc_show()). Load averages
// are not computed (0.00); one task, the reader, is runnable.
func (fs *Filesystem) genLoadavg(vfs.Context) ([]byte, error) {
	return fmt.Appendf(nil, "0.00 0.00 0.00 1/%d %d\n", fs.runningThreads(), fs.k.LastTID()), nil
}

// genStat renders /proc/stat (show_stat() in fs/proc/stat.c). CPU time
// is not accounted per CPU: every CPU is shown idle since boot.
func (fs *Filesystem) genStat(vfs.Context) ([]byte, error) {
	n := runtime.NumCPU()
	idle := ticks(fs.uptime())
	var b bytes.Buffer
	fmt.Fprintf(&b, "cpu  0 0 0 %d 0 0 0 0 0 0\n", idle*uint64(n))
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "cpu%d 0 0 0 %d 0 0 0 0 0 0\n", i, idle)
	}
	b.WriteString("intr 0\n")
	b.WriteString("ctxt 0\n")
	fmt.Fprintf(&b, "btime %d\n", fs.k.Boot.Add(-bootOffset).Unix())
	fmt.Fprintf(&b, "processes %d\n", fs.k.LastTID())
	b.WriteString("procs_running 1\n")
	b.WriteString("procs_blocked 0\n")
	b.WriteString("softirq 0 0 0 0 0 0 0 0 0 0 0\n")
	return b.Bytes(), nil
}

// genMeminfo renders /proc/meminfo (see memStats).
func (fs *Filesystem) genMeminfo(vfs.Context) ([]byte, error) {
	return formatMeminfo(fs.memStats()), nil
}

// memStats is the sandbox's memory: the memory limit, else the host's
// RAM, with the memory file's usage as anonymous memory.
func (fs *Filesystem) memStats() memStats {
	total := fs.k.TotalMemory()
	if total == 0 {
		total = fs.hostMem
	}
	var used uint64
	if fs.k.MemFile != nil {
		used = fs.k.MemFile.Usage()
	}
	free := uint64(0)
	if used < total {
		free = total - used
	}
	return memStats{Total: total, Free: free, Available: free, Anon: used}
}

// baseFilesystems are the filesystem types the sentry implements.
var baseFilesystems = []string{"sysfs", "tmpfs", "proc", "devpts", "overlay"}

// genFilesystems renders /proc/filesystems (filesystems_proc_show() in
// fs/filesystems.c): every type the sentry provides or has mounted, all
// "nodev" (none needs a block device).
func (fs *Filesystem) genFilesystems(vfs.Context) ([]byte, error) {
	names := slices.Clone(baseFilesystems)
	if fs.k.VFS != nil {
		for _, m := range fs.k.VFS.Mounts() {
			if n := m.Filesystem().Impl().Name(); !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	var b bytes.Buffer
	for _, n := range names {
		fmt.Fprintf(&b, "nodev\t%s\n", n)
	}
	return b.Bytes(), nil
}

// newSysDir builds /proc/sys. Only the files programs commonly read
// exist. /proc/sys is read-only, as in a default OCI container (runc and
// Docker mount it read-only): opening a file for writing fails with
// EROFS at open, whatever the file's mode.
func (fs *Filesystem) newSysDir() vfs.Inode {
	val := func(s string) genFunc {
		return func(vfs.Context) ([]byte, error) { return []byte(s + "\n"), nil }
	}
	// f makes a sysctl file with Linux's mode (0644 for writable
	// sysctls, 0444 for read-only ones).
	f := func(name string, perm uint32, gen genFunc) dirEntry {
		return dirEntry{name, &sysctlFile{fs.newFile(fs.ino(), perm, nil, gen)}}
	}
	dir := func(name string, entries ...dirEntry) dirEntry {
		return dirEntry{name, fs.newStaticDir(entries)}
	}
	k := fs.k
	root := fs.newStaticDir([]dirEntry{
		dir("fs",
			f("file-max", 0o644, val("9223372036854775807")),
			f("nr_open", 0o644, val("1048576")),
			f("pipe-max-size", 0o644, val("1048576")),
		),
		dir("kernel",
			f("cap_last_cap", 0o444, val("40")),
			f("domainname", 0o644, func(vfs.Context) ([]byte, error) { _, d := k.UTSNames(); return []byte(d + "\n"), nil }),
			f("hostname", 0o644, func(vfs.Context) ([]byte, error) { h, _ := k.UTSNames(); return []byte(h + "\n"), nil }),
			f("ngroups_max", 0o444, val("65536")),
			f("osrelease", 0o444, val(osRelease)),
			f("ostype", 0o444, val("Linux")),
			f("pid_max", 0o644, val("4194304")),
			dir("random",
				f("boot_id", 0o444, val(fs.bootID)),
				f("uuid", 0o444, func(vfs.Context) ([]byte, error) { return []byte(newUUID() + "\n"), nil }),
			),
			f("version", 0o444, val(osVersion)),
		),
		fs.netSysctls(f, dir),
		dir("vm",
			f("max_map_count", 0o644, val("65530")),
			f("overcommit_memory", 0o644, val("0")),
		),
	})
	return root
}

// sysctlFile is a /proc/sys file: readable, never writable.
type sysctlFile struct{ *file }

// Open implements vfs.Inode.Open: EROFS for writing (see newSysDir).
func (s *sysctlFile) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	if flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0 {
		return nil, vfs.FileOptions{}, unix.EROFS
	}
	return s.file.Open(ctx, flags)
}

// newUUID returns a random version 4 UUID (generate_random_uuid(), as
// /proc/sys/kernel/random/uuid shows it).
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// cpuInfo is the per-CPU description /proc/cpuinfo repeats for each
// CPU: the fields of show_cpuinfo() in arch/x86/kernel/cpu/proc.c that
// do not depend on the CPU's number.
type cpuInfo struct {
	VendorID, Family, Model, ModelName, Stepping, Microcode string
	MHz, CacheSize, CPUIDLevel, Flags, Bugs, BogoMIPS       string
	ClflushSize, CacheAlignment, AddressSizes               string
}

// defaultCPU is used when the host's description cannot be read.
var defaultCPU = cpuInfo{
	VendorID:       "GenuineIntel",
	Family:         "6",
	Model:          "85",
	ModelName:      "Intel(R) Xeon(R) CPU",
	Stepping:       "7",
	Microcode:      "0x1",
	MHz:            "2800.000",
	CacheSize:      "33792 KB",
	CPUIDLevel:     "22",
	Flags:          "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch fsgsbase bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap clflushopt clwb avx512cd avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves arat",
	Bugs:           "spectre_v1 spectre_v2 spec_store_bypass swapgs",
	BogoMIPS:       "5600.00",
	ClflushSize:    "64",
	CacheAlignment: "64",
	AddressSizes:   "46 bits physical, 48 bits virtual",
}

// hostCPUData is the host's /proc/cpuinfo as the boot code read it before
// the sentry was confined (it has no host /proc afterwards; see
// SetHostCPUInfo), or nil to read /proc/cpuinfo when a procfs is created.
// Written once at boot, before any procfs exists.
var hostCPUData []byte

// SetHostCPUInfo gives procfs the host's /proc/cpuinfo. Call it before New.
func SetHostCPUInfo(data []byte) { hostCPUData = data }

// hostCPUInfo reads the first CPU's description from the host's
// /proc/cpuinfo (the sentry runs on the host's CPUs, so applications see
// the features they really have), falling back to defaultCPU field by
// field.
func hostCPUInfo() cpuInfo {
	c := defaultCPU
	data := hostCPUData
	if data == nil {
		var err error
		if data, err = os.ReadFile("/proc/cpuinfo"); err != nil {
			return c
		}
	}
	fields := map[string]*string{
		"vendor_id": &c.VendorID, "cpu family": &c.Family, "model": &c.Model,
		"model name": &c.ModelName, "stepping": &c.Stepping, "microcode": &c.Microcode,
		"cpu MHz": &c.MHz, "cache size": &c.CacheSize, "cpuid level": &c.CPUIDLevel, "flags": &c.Flags, "bugs": &c.Bugs,
		"bogomips": &c.BogoMIPS, "clflush size": &c.ClflushSize,
		"cache_alignment": &c.CacheAlignment, "address sizes": &c.AddressSizes,
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // end of the first CPU's block
		}
		key, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if p, ok := fields[strings.TrimSpace(key)]; ok {
			*p = strings.TrimSpace(v)
		}
	}
	return c
}

// formatCPUInfo renders /proc/cpuinfo for n CPUs, one package with n
// cores (show_cpuinfo()).
func formatCPUInfo(c *cpuInfo, n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		id := strconv.Itoa(i)
		row := func(k, v string) {
			// Labels are padded with tabs to two tab stops.
			tabs := "\t"
			if len(k) < 8 {
				tabs = "\t\t"
			}
			fmt.Fprintf(&b, "%s%s: %s\n", k, tabs, v)
		}
		row("processor", id)
		row("vendor_id", c.VendorID)
		row("cpu family", c.Family)
		row("model", c.Model)
		row("model name", c.ModelName)
		row("stepping", c.Stepping)
		row("microcode", c.Microcode)
		row("cpu MHz", c.MHz)
		row("cache size", c.CacheSize)
		row("physical id", "0")
		row("siblings", strconv.Itoa(n))
		row("core id", id)
		row("cpu cores", strconv.Itoa(n))
		row("apicid", id)
		row("initial apicid", id)
		row("fpu", "yes")
		row("fpu_exception", "yes")
		row("cpuid level", c.CPUIDLevel)
		row("wp", "yes")
		row("flags", c.Flags)
		row("bugs", c.Bugs)
		row("bogomips", c.BogoMIPS)
		row("clflush size", c.ClflushSize)
		row("cache_alignment", c.CacheAlignment)
		row("address sizes", c.AddressSizes)
		b.WriteString("power management:\n\n")
	}
	return b.Bytes()
}

// genCPUInfo renders /proc/cpuinfo for the CPUs the sandbox may use.
func (fs *Filesystem) genCPUInfo(vfs.Context) ([]byte, error) {
	return formatCPUInfo(&fs.cpu, runtime.NumCPU()), nil
}
