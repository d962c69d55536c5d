package specconv

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDefaultSpecConverts(t *testing.T) {
	var warns []string
	c, err := Convert("c1", DefaultSpec(), func(s string) { warns = append(warns, s) })
	if err != nil {
		t.Fatal(err)
	}
	if c.Hostname != "pangolin" || c.Process.Args[0] != "sh" || !c.Process.Terminal || !c.RootReadOnly {
		t.Fatalf("converted %+v", c)
	}
	kinds := map[string]MountKind{}
	for _, m := range c.Mounts {
		kinds[m.Destination] = m.Kind
	}
	want := map[string]MountKind{"/proc": KindProc, "/dev": KindDev, "/dev/pts": KindDevpts, "/dev/shm": KindTmpfs, "/tmp": KindTmpfs}
	for d, k := range want {
		if kinds[d] != k {
			t.Errorf("%s: kind %q, want %q", d, kinds[d], k)
		}
	}
	if len(warns) != 0 {
		t.Errorf("default spec warns: %q", warns)
	}
	if c.Process.Caps == nil || c.Process.Caps.Bounding != 1<<29|1<<5|1<<10 {
		t.Errorf("caps %+v", c.Process.Caps)
	}
	// The default spec is what runc writes: it round-trips as JSON.
	if _, err := json.Marshal(DefaultSpec()); err != nil {
		t.Fatal(err)
	}
}

func TestMounts(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		name string
		m    specs.Mount
		want *Mount
		err  string
		warn string
	}{
		{"bind dir ro", specs.Mount{Destination: "/data/", Source: dir, Options: []string{"rbind", "ro", "rprivate"}},
			&Mount{Destination: "/data", Kind: KindBind, Source: dir, ReadOnly: true, Gofer: 1}, "", ""},
		{"bind file", specs.Mount{Destination: "/etc/hosts", Type: "bind", Source: file, Options: []string{"rbind"}},
			&Mount{Destination: "/etc/hosts", Kind: KindBind, Source: file, File: true, Gofer: 1}, "", ""},
		{"tmpfs size mode", specs.Mount{Destination: "/run", Type: "tmpfs", Options: []string{"size=64m", "mode=755", "noexec"}},
			&Mount{Destination: "/run", Kind: KindTmpfs, Size: 64 << 20, Mode: 0o755, NoExec: true}, "", ""},
		{"sysfs", specs.Mount{Destination: "/sys", Type: "sysfs", Options: []string{"ro"}},
			&Mount{Destination: "/sys", Kind: KindSysfs, ReadOnly: true}, "", "sysfs is not implemented"},
		{"cgroup", specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup"}, nil, "", "cgroupfs"},
		{"relative", specs.Mount{Destination: "data", Type: "tmpfs"}, nil, "absolute", ""},
		{"missing source", specs.Mount{Destination: "/x", Type: "bind", Source: filepath.Join(dir, "nope")}, nil, "bind source", ""},
		{"bad type", specs.Mount{Destination: "/x", Type: "ext4", Source: "/dev/sda"}, nil, "not supported", ""},
		{"bad size", specs.Mount{Destination: "/x", Type: "tmpfs", Options: []string{"size=50%"}}, nil, "percentages", ""},
		{"unknown option", specs.Mount{Destination: "/x", Type: "tmpfs", Options: []string{"huge=always"}},
			&Mount{Destination: "/x", Kind: KindTmpfs}, "", "huge=always"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSpec()
			s.Mounts = []specs.Mount{tc.m}
			var warns []string
			c, err := Convert("c", s, func(w string) { warns = append(warns, w) })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrSpec) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if len(c.Mounts) != 0 {
					t.Fatalf("mounts %+v, want none", c.Mounts)
				}
			} else if len(c.Mounts) != 1 || c.Mounts[0] != *tc.want {
				t.Fatalf("mounts %+v, want %+v", c.Mounts, *tc.want)
			}
			if tc.warn != "" && (len(warns) != 1 || !strings.Contains(warns[0], tc.warn)) {
				t.Fatalf("warnings %q, want one with %q", warns, tc.warn)
			}
			if tc.warn == "" && len(warns) != 0 {
				t.Fatalf("unexpected warnings %q", warns)
			}
		})
	}
}

func TestProcess(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*specs.Process)
		err  string
	}{
		{"ok", func(*specs.Process) {}, ""},
		{"no args", func(p *specs.Process) { p.Args = nil }, "args"},
		{"relative cwd", func(p *specs.Process) { p.Cwd = "tmp" }, "absolute"},
		{"bad env", func(p *specs.Process) { p.Env = []string{"NOEQUALS"} }, "KEY=VALUE"},
		{"bad rlimit", func(p *specs.Process) { p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_FOO"}} }, "unknown resource"},
		{"soft above hard", func(p *specs.Process) { p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 5}} }, "above hard"},
		{"bad cap", func(p *specs.Process) { p.Capabilities.Effective = []string{"DROP_TABLES"} }, "not a capability"},
		{"username", func(p *specs.Process) { p.User.Username = "bob" }, "Windows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultSpec().Process
			tc.edit(p)
			out, err := ConvertProcess(p, func(string) {})
			if tc.err == "" {
				if err != nil || out.Rlimits[0] != (Rlimit{Resource: 7, Soft: 1024, Hard: 1024}) {
					t.Fatalf("%+v %v", out, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
		})
	}
}

func TestRootPath(t *testing.T) {
	b := t.TempDir()
	os.Mkdir(filepath.Join(b, "rootfs"), 0o755)
	s := DefaultSpec()
	if p, err := RootPath(s, b); err != nil || p != filepath.Join(b, "rootfs") {
		t.Fatalf("%q %v", p, err)
	}
	s.Root.Path = "/nonexistent-rootfs"
	if _, err := RootPath(s, b); err == nil || err.Error() != "rootfs /nonexistent-rootfs: no such directory" {
		t.Fatalf("%v", err)
	}
}
