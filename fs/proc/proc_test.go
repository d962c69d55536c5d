package proc

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
	"pangolin/sentry/limits"
)

func TestFormatStatFieldCount(t *testing.T) {
	s := &taskStat{
		PID: 42, Comm: "my prog) x", State: 'S', PPID: 1, PGID: 42, SID: 42,
		TTYPgrp: -1, Priority: 20, NumThreads: 3, StartTime: 123, VSize: 8192,
		RSS: 2, RSSLim: limits.Infinity, ExitSignal: 17, ArgStart: 0x7ff0, ArgEnd: 0x7ff8,
	}
	line := string(formatStat(s))
	if !strings.HasSuffix(line, "\n") {
		t.Fatalf("no newline: %q", line)
	}
	// Parse as procps does: the comm is between the first "(" and the
	// last ")".
	rp := strings.LastIndexByte(line, ')')
	if got := line[strings.IndexByte(line, '(')+1 : rp]; got != s.Comm {
		t.Errorf("comm = %q", got)
	}
	rest := strings.Fields(line[rp+1:])
	if n := 2 + len(rest); n != 52 {
		t.Fatalf("%d fields, want 52: %q", n, line)
	}
	want := map[int]string{ // 1-based field numbers from proc(5)
		3: "S", 4: "1", 5: "42", 6: "42", 7: "0", 8: "-1", 18: "20", 19: "0", 20: "3",
		21: "0", 22: "123", 23: "8192", 24: "2", 25: "18446744073709551615",
		38: "17", 48: "32752", 49: "32760", 52: "0",
	}
	for f, v := range want {
		if got := rest[f-3]; got != v {
			t.Errorf("field %d = %q, want %q", f, got, v)
		}
	}
}

func TestFormatStatm(t *testing.T) {
	if got := string(formatStatm(10, 5, 0, 0, 0)); got != "10 5 0 0 0 0 0\n" {
		t.Errorf("statm = %q", got)
	}
}

func TestFormatStatus(t *testing.T) {
	s := &taskStatus{
		Name: "a\nb", Umask: 0o22, State: "S (sleeping)", Tgid: 5, Pid: 6, PPid: 1,
		NSpgid: 5, NSsid: 1, Uid: [4]uint32{1000, 1000, 1000, 1000}, Groups: []uint32{10, 20},
		FDSize: 64, HasMM: true, VmSize: 4 << 20, VmPeak: 4 << 20, VmRSS: 1 << 20,
		Threads: 2, SigQLimit: 63432, SigBlk: 1 << 9, CapEff: auth.AllCapabilities, NumCPU: 4,
	}
	out := string(formatStatus(s))
	for _, want := range []string{
		"Name:\ta\\nb\n",
		"Umask:\t0022\n",
		"State:\tS (sleeping)\n",
		"Tgid:\t5\nNgid:\t0\nPid:\t6\nPPid:\t1\nTracerPid:\t0\n",
		"Uid:\t1000\t1000\t1000\t1000\n",
		"Groups:\t10 20 \n",
		"NSpgid:\t5\nNSsid:\t1\n",
		"VmSize:\t    4096 kB\n",
		"VmRSS:\t    1024 kB\n",
		"Threads:\t2\nSigQ:\t0/63432\n",
		"SigBlk:\t0000000000000200\n",
		"CapEff:\t000001ffffffffff\n",
		"NoNewPrivs:\t0\nSeccomp:\t0\n",
		"Cpus_allowed:\tf\nCpus_allowed_list:\t0-3\n",
		"voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	// Every line is "Key:\tvalue".
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !regexp.MustCompile(`^[A-Za-z_]+:\t`).MatchString(l) {
			t.Errorf("bad line %q", l)
		}
	}
	s.HasMM = false
	if strings.Contains(string(formatStatus(s)), "VmSize") {
		t.Error("Vm lines without an address space")
	}
}

func TestBitmapHex(t *testing.T) {
	for _, tc := range []struct {
		nbits, set int
		want       string
	}{
		{1, 1, "1"},
		{4, 4, "f"},
		{8, 8, "ff"},
		{12, 12, "fff"},
		{32, 32, "ffffffff"},
		{36, 36, "f,ffffffff"},
		{64, 64, "ffffffff,ffffffff"},
		{64, 1, "00000000,00000001"},
	} {
		if got := bitmapHex(tc.nbits, tc.set); got != tc.want {
			t.Errorf("bitmapHex(%d, %d) = %q, want %q", tc.nbits, tc.set, got, tc.want)
		}
	}
	if got := bitmapHex(maxNumNodes, 1); strings.Count(got, ",") != 31 || !strings.HasSuffix(got, ",00000001") {
		t.Errorf("Mems_allowed = %q", got)
	}
	if bitmapList(1) != "0" || bitmapList(8) != "0-7" {
		t.Error("bitmapList")
	}
}

func TestFormatLimits(t *testing.T) {
	ls := limits.NewDefault()
	var all [limits.NumLimits]limits.Limit
	for i := range all {
		all[i] = ls.Get(i)
	}
	lines := strings.Split(strings.TrimSuffix(string(formatLimits(all)), "\n"), "\n")
	if len(lines) != 1+limits.NumLimits {
		t.Fatalf("%d lines", len(lines))
	}
	want := map[int]string{
		0:  "Limit                     Soft Limit           Hard Limit           Units     ",
		1:  "Max cpu time              unlimited            unlimited            seconds   ",
		4:  "Max stack size            8388608              unlimited            bytes     ",
		8:  "Max open files            1024                 1048576              files     ",
		14: "Max nice priority         0                    0                    ",
		16: "Max realtime timeout      unlimited            unlimited            us        ",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
}

func TestFormatMeminfo(t *testing.T) {
	out := string(formatMeminfo(memStats{Total: 4 << 30, Free: 3 << 30, Available: 3 << 30, Anon: 1 << 30}))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 40 {
		t.Errorf("only %d lines", len(lines))
	}
	re := regexp.MustCompile(`^([A-Za-z_()0-9]+):\s+(\d+)( kB)?$`)
	keys := map[string]string{}
	var order []string
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("bad line %q", l)
			continue
		}
		keys[m[1]] = m[2]
		order = append(order, m[1])
	}
	if order[0] != "MemTotal" || order[1] != "MemFree" || order[2] != "MemAvailable" {
		t.Errorf("order %v", order[:3])
	}
	for k, v := range map[string]string{
		"MemTotal": "4194304", "MemFree": "3145728", "MemAvailable": "3145728",
		"SwapTotal": "0", "AnonPages": "1048576", "HugePages_Total": "0", "Hugepagesize": "2048",
	} {
		if keys[k] != v {
			t.Errorf("%s = %q, want %q", k, keys[k], v)
		}
	}
	if !strings.Contains(out, "MemTotal:        4194304 kB\n") || !strings.Contains(out, "Buffers:               0 kB\n") {
		t.Errorf("column layout:\n%s", out)
	}
}

func TestFormatCPUInfo(t *testing.T) {
	c := hostCPUInfo()
	out := string(formatCPUInfo(&c, 3))
	if n := len(regexp.MustCompile(`(?m)^processor\t: \d+$`).FindAllString(out, -1)); n != 3 {
		t.Errorf("%d processor lines", n)
	}
	if !strings.Contains(out, "model\t\t: ") || !strings.Contains(out, "flags\t\t: ") {
		t.Errorf("label padding:\n%s", out)
	}
	if strings.Count(out, "\n\n") != 3 {
		t.Error("blocks are not blank-line separated")
	}
}

func TestMountFormats(t *testing.T) {
	rows := []mountRow{
		{ID: 1, ParentID: 1, Dev: unix.Mkdev(0, 1), Root: "/", Point: "/", FSType: "overlay", Source: "overlay"},
		{ID: 2, ParentID: 1, Dev: unix.Mkdev(0, 2), Root: "/", Point: "/my dir", FSType: "proc", Source: "proc",
			Flags: vfs.MountFlags{NoSuid: true, NoDev: true, NoExec: true}},
	}
	if got, want := string(formatMounts(rows)), "overlay / overlay rw,relatime 0 0\nproc /my\\040dir proc rw,nosuid,nodev,noexec,relatime 0 0\n"; got != want {
		t.Errorf("mounts:\n%s\nwant:\n%s", got, want)
	}
	if got, want := string(formatMountinfo(rows)), "1 1 0:1 / / rw,relatime - overlay overlay rw\n2 1 0:2 / /my\\040dir rw,nosuid,nodev,noexec,relatime - proc proc rw\n"; got != want {
		t.Errorf("mountinfo:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatFDInfo(t *testing.T) {
	got := string(formatFDInfo(12, unix.O_RDWR|oLargefile|unix.O_CLOEXEC, 3, 99))
	if want := "pos:\t12\nflags:\t02100002\nmnt_id:\t3\nino:\t99\n"; got != want {
		t.Errorf("fdinfo = %q, want %q", got, want)
	}
}

func TestParseID(t *testing.T) {
	for name, ok := range map[string]bool{"1": true, "4194304": true, "0": true, "01": false, "+1": false, "-1": false, "": false, "self": false, "99999999999": false} {
		if _, got := parseID(name); got != ok {
			t.Errorf("parseID(%q) = %v", name, got)
		}
	}
}

func TestSelfTarget(t *testing.T) {
	if selfTarget(7, 9, false) != "7" || selfTarget(7, 9, true) != "7/task/9" {
		t.Error("selfTarget")
	}
	s := &selfLink{}
	if _, err := s.Readlink(); !errors.Is(err, unix.ENOENT) {
		t.Errorf("Readlink without caller: %v", err)
	}
	if _, err := s.ReadlinkContext(vfs.CredsContext(auth.NewRootCredentials())); !errors.Is(err, unix.ENOENT) {
		t.Errorf("ReadlinkContext without a task: %v", err)
	}
}

func TestUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if u := newUUID(); !re.MatchString(u) {
		t.Errorf("uuid %q", u)
	}
}

// mounted builds a kernel without tasks, mounts procfs as the root of a
// VFS and returns an opener for paths in it.
func mounted(t *testing.T) (read func(path string) (string, error), v *vfs.VirtualFilesystem, fsc *vfs.FSContext, ctx vfs.Context) {
	t.Helper()
	v = vfs.New()
	k, err := kernel.New(kernel.Config{VFS: v, Hostname: "box"})
	if err != nil {
		t.Fatal(err)
	}
	pfs, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := v.NewFilesystem(pfs, pfs.Root())
	if err != nil {
		t.Fatal(err)
	}
	root, err := v.MountRoot(fs, vfs.MountFlags{NoSuid: true, NoDev: true, NoExec: true})
	if err != nil {
		t.Fatal(err)
	}
	fsc = vfs.NewFSContext(root, root)
	ctx = vfs.CredsContext(auth.NewRootCredentials())
	read = func(path string) (string, error) {
		f, err := v.Open(ctx, fsc, nil, path, unix.O_RDONLY, 0)
		if err != nil {
			return "", err
		}
		defer f.DecRef()
		var b bytes.Buffer
		buf := make([]byte, 7) // small reads exercise the snapshot
		for {
			n, err := f.Read(ctx, buf)
			b.Write(buf[:n])
			if err != nil && err != io.EOF {
				return "", err
			}
			if n == 0 {
				return b.String(), nil
			}
		}
	}
	return read, v, fsc, ctx
}

func TestMountedTopLevel(t *testing.T) {
	read, _, _, _ := mounted(t)
	for path, check := range map[string]func(string) bool{
		"/cpuinfo": func(s string) bool {
			return strings.Count(s, "processor\t: ") == runtime.NumCPU()
		},
		"/meminfo":                     func(s string) bool { return strings.HasPrefix(s, "MemTotal:") },
		"/version":                     func(s string) bool { return strings.HasPrefix(s, "Linux version 6.1.0 ") },
		"/uptime":                      regexp.MustCompile(`^\d+\.\d\d \d+\.\d\d\n$`).MatchString,
		"/loadavg":                     regexp.MustCompile(`^0\.00 0\.00 0\.00 1/0 0\n$`).MatchString,
		"/stat":                        regexp.MustCompile(`(?s)^cpu  .*\nbtime \d+\nprocesses 0\n`).MatchString,
		"/filesystems":                 func(s string) bool { return strings.Contains(s, "nodev\tproc\n") },
		"/sys/kernel/hostname":         func(s string) bool { return s == "box\n" },
		"/sys/kernel/osrelease":        func(s string) bool { return s == "6.1.0\n" },
		"/sys/kernel/ostype":           func(s string) bool { return s == "Linux\n" },
		"/sys/kernel/pid_max":          func(s string) bool { return s == "4194304\n" },
		"/sys/kernel/ngroups_max":      func(s string) bool { return s == "65536\n" },
		"/sys/kernel/version":          func(s string) bool { return s == osVersion+"\n" },
		"/sys/vm/overcommit_memory":    func(s string) bool { return s == "0\n" },
		"/sys/net/core/somaxconn":      func(s string) bool { return s == "4096\n" },
		"/sys/fs/file-max":             func(s string) bool { return s == "9223372036854775807\n" },
		"/sys/kernel/random/boot_id":   func(s string) bool { return len(s) == 37 },
		"/sys/kernel/random/uuid":      func(s string) bool { return len(s) == 37 },
		"/sys/kernel/cap_last_cap":     func(s string) bool { return s == "40\n" },
		"/sys/kernel/random/../ostype": func(s string) bool { return s == "Linux\n" },
	} {
		got, err := read(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if !check(got) {
			t.Errorf("%s: unexpected content %q", path, got)
		}
	}
	if _, err := read("/1"); !errors.Is(err, unix.ENOENT) {
		t.Errorf("/1 without tasks: %v", err)
	}
	// With no caller task, /proc/self cannot resolve.
	if _, err := read("/self/status"); !errors.Is(err, unix.ENOENT) {
		t.Errorf("/self/status without a task: %v", err)
	}
}

func TestMountedWrites(t *testing.T) {
	_, v, fsc, ctx := mounted(t)
	// /proc/sys is read-only.
	if _, err := v.Open(ctx, fsc, nil, "/sys/vm/overcommit_memory", unix.O_WRONLY, 0); !errors.Is(err, unix.EROFS) {
		t.Errorf("open sysctl for writing: %v", err)
	}
	// Root may open a 0444 top-level file for writing; the write fails
	// with EIO (proc_reg_write() without proc_write).
	f, err := v.Open(ctx, fsc, nil, "/meminfo", unix.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open meminfo O_WRONLY as root: %v", err)
	}
	defer f.DecRef()
	if _, err := f.Write(ctx, []byte("x")); !errors.Is(err, unix.EIO) {
		t.Errorf("write meminfo: %v", err)
	}
	// An unprivileged user may not open it for writing at all.
	user := vfs.CredsContext(auth.NewUserCredentials(1000, 1000, nil))
	if _, err := v.Open(user, fsc, nil, "/meminfo", unix.O_WRONLY, 0); !errors.Is(err, unix.EACCES) {
		t.Errorf("open meminfo O_WRONLY as user: %v", err)
	}
}

func TestMountedListing(t *testing.T) {
	_, v, fsc, ctx := mounted(t)
	f, err := v.Open(ctx, fsc, nil, "/", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	var names []string
	// One entry per call exercises resumption by cookie.
	for {
		got := 0
		if err := f.IterDirents(ctx, func(de vfs.Dirent) bool {
			if got == 1 {
				return false
			}
			got++
			names = append(names, de.Name)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if got == 0 {
			break
		}
	}
	want := []string{".", "..", "self", "thread-self", "cpuinfo", "meminfo", "uptime", "version", "loadavg", "stat", "filesystems", "vmstat", "cmdline", "mounts", "net", "sys"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("listing %v, want %v", names, want)
	}
	st, err := v.StatAt(ctx, fsc, nil, "/self", false)
	if err != nil || st.Type() != unix.S_IFLNK {
		t.Errorf("stat /self: %v %o", err, st.Mode)
	}
	if target, err := v.ReadlinkAt(ctx, fsc, nil, "/mounts"); err != nil || target != "self/mounts" {
		t.Errorf("readlink /mounts = %q, %v", target, err)
	}
	sfs, err := v.StatfsVD(v.RootMount())
	if err != nil || sfs.Type != procSuperMagic {
		t.Errorf("statfs: %+v %v", sfs, err)
	}
}
