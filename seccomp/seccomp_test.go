package seccomp

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMerge(t *testing.T) {
	a := Match{Eq(0, 1, "")}
	b := Match{Eq(0, 2, "")}
	for _, c := range []struct {
		name    string
		lists   [][]Rule
		want    []Rule
		wantErr bool
	}{{
		name:  "patterns join",
		lists: [][]Rule{{{Name: "kill", Why: "x", Any: []Match{a}}}, {{Name: "kill", Why: "y", Any: []Match{b}}}},
		want:  []Rule{{Name: "kill", Why: "x; y", Any: []Match{a, b}}},
	}, {
		name:  "any argument wins",
		lists: [][]Rule{{{Name: "kill", Why: "x", Any: []Match{a}}}, {{Name: "kill", Why: "y"}}},
		want:  []Rule{{Name: "kill", Why: "x; y"}},
	}, {
		name:  "order kept",
		lists: [][]Rule{{{Name: "b", Why: "x"}, {Name: "a", Why: "x"}}},
		want:  []Rule{{Name: "b", Why: "x"}, {Name: "a", Why: "x"}},
	}, {
		name:    "reason required",
		lists:   [][]Rule{{{Name: "read"}}},
		wantErr: true,
	}, {
		name:    "errno clash",
		lists:   [][]Rule{{{Name: "clone3", Why: "x", Errno: unix.ENOSYS}}, {{Name: "clone3", Why: "y"}}},
		wantErr: true,
	}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Merge(c.lists...)
			if c.wantErr {
				if err == nil {
					t.Fatalf("Merge = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("Merge = %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i].Name != c.want[i].Name || got[i].Why != c.want[i].Why || len(got[i].Any) != len(c.want[i].Any) {
					t.Errorf("rule %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestAllowedSkipsErrnoRules(t *testing.T) {
	got := Allowed([]Rule{{Name: "read", Why: "x"}, {Name: "clone3", Why: "x", Errno: unix.ENOSYS}, {Name: "close", Why: "x"}})
	if strings.Join(got, ",") != "close,read" {
		t.Errorf("Allowed = %v", got)
	}
}

func TestCompile(t *testing.T) {
	rules := []Rule{
		{Name: "read", Why: "x"},
		{Name: "mmap", Why: "x", Any: []Match{{MaskedEq(2, unix.PROT_EXEC, 0, "")}}},
		{Name: "kill", Why: "x", Any: []Match{{MaskedEq(0, 0xffffffff80000000, 0, ""), Eq(1, 9, "")}}},
		{Name: "clone3", Why: "x", Errno: unix.ENOSYS},
	}
	if err := Check(rules); err != nil {
		t.Fatal(err)
	}
	prog, err := BPF(rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 8*4 || len(prog)%8 != 0 {
		t.Errorf("BPF program of %d bytes", len(prog))
	}
	if err := Check([]Rule{{Name: "no_such_syscall", Why: "x"}}); err == nil {
		t.Error("unknown syscall accepted")
	}
	var b bytes.Buffer
	Format(&b, rules)
	for _, want := range []string{"arg2 & 0x4 == 0x0", "fails with ENOSYS", "3 syscalls reach the host kernel"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Format output lacks %q:\n%s", want, b.String())
		}
	}
}

func TestSyscallName(t *testing.T) {
	if got := SyscallName(unix.SYS_OPENAT); got != "openat" {
		t.Errorf("SyscallName(openat) = %q", got)
	}
	if got := SyscallName(100000); got != "syscall 100000" {
		t.Errorf("SyscallName(100000) = %q", got)
	}
}

func TestField(t *testing.T) {
	rec := []byte(`6,1,2,-;audit: type=1326 audit(1:2): auid=4294967295 uid=0 gid=0 ses=1 pid=2413 comm="t" sig=31 arch=c000003e syscall=110 compat=0 ip=0x1 code=0x80000000`)
	if v, ok := field(rec, "syscall="); !ok || v != 110 {
		t.Errorf("syscall= parsed as %d, %v", v, ok)
	}
	if _, ok := field(rec, "nosuch="); ok {
		t.Error("missing field found")
	}
}
