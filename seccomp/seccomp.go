// Package seccomp turns Pangolin's host syscall allowlists into seccomp-BPF
// filters with libseccomp (github.com/seccomp/libseccomp-golang, as runc
// uses) and installs them.
//
// An allowlist is a []Rule: one entry per host syscall a process kind (the
// sentry with its platform, the gofer, a ptrace stub) may make, each with the
// reason it is needed and, where it matters, conditions on its arguments.
// Everything else kills the whole process (SECCOMP_RET_KILL_PROCESS), and
// the kernel writes an audit record naming the refused syscall
// (ReadKillRecord finds it). Filters are always installed with
// SECCOMP_FILTER_FLAG_TSYNC, because a filter belongs to one thread and a Go
// process has many, and with no_new_privs set.
//
// The package is a leaf: the tables live next to the code that needs the
// syscalls (sentry/hostfilter, platform/ptrace, gofer/filter).
package seccomp

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Op is an argument comparison.
type Op int

// MarshalText implements encoding.TextMarshaler.
func (o Op) MarshalText() ([]byte, error) {
	switch o {
	case OpEq:
		return []byte("eq"), nil
	case OpMaskedEq:
		return []byte("masked-eq"), nil
	case OpLess:
		return []byte("lt"), nil
	case OpGreaterEq:
		return []byte("ge"), nil
	}
	return nil, fmt.Errorf("seccomp: bad comparison %d", int(o))
}

// Comparisons. All compare the full 64-bit register, as seccomp-BPF does.
const (
	OpEq        Op = iota // arg == Value
	OpMaskedEq            // arg & Mask == Value
	OpLess                // arg < Value (unsigned)
	OpGreaterEq           // arg >= Value (unsigned)
)

// Cond is one condition on a syscall argument.
type Cond struct {
	Arg   uint   `json:"arg"` // argument index, 0..5
	Op    Op     `json:"op"`
	Value uint64 `json:"value"`
	Mask  uint64 `json:"mask,omitempty"` // OpMaskedEq only
	// Text documents the condition for people ("prot has no PROT_EXEC");
	// derived from the numbers when empty.
	Text string `json:"text,omitempty"`
}

// Eq is the condition arg == v.
func Eq(arg uint, v uint64, text string) Cond {
	return Cond{Arg: arg, Op: OpEq, Value: v, Text: text}
}

// MaskedEq is the condition arg & mask == v.
func MaskedEq(arg uint, mask, v uint64, text string) Cond {
	return Cond{Arg: arg, Op: OpMaskedEq, Mask: mask, Value: v, Text: text}
}

// Less is the condition arg < v, unsigned.
func Less(arg uint, v uint64, text string) Cond {
	return Cond{Arg: arg, Op: OpLess, Value: v, Text: text}
}

func (c Cond) String() string {
	if c.Text != "" {
		return c.Text
	}
	switch c.Op {
	case OpEq:
		return fmt.Sprintf("arg%d == %#x", c.Arg, c.Value)
	case OpMaskedEq:
		return fmt.Sprintf("arg%d & %#x == %#x", c.Arg, c.Mask, c.Value)
	case OpLess:
		return fmt.Sprintf("arg%d < %#x", c.Arg, c.Value)
	case OpGreaterEq:
		return fmt.Sprintf("arg%d >= %#x", c.Arg, c.Value)
	}
	return fmt.Sprintf("arg%d ?", c.Arg)
}

// Match is a conjunction of conditions.
type Match []Cond

// Rule allows one syscall.
type Rule struct {
	// Name is the syscall's name (as in <asm/unistd_64.h>).
	Name string `json:"name"`
	// Why says what needs the syscall. Required: an allowlist entry
	// nobody can explain should not be there.
	Why string `json:"why"`
	// Any lists the argument patterns allowed (any one of them); empty
	// allows every argument.
	Any []Match `json:"any,omitempty"`
	// Errno, if set, makes the syscall fail with that error instead of
	// running (for example clone3 with ENOSYS, so that glibc falls back
	// to clone, whose flags a filter can inspect). The call is not
	// counted as host surface: it never reaches the kernel's
	// implementation.
	Errno unix.Errno `json:"errno,omitempty"`
}

// Number returns the syscall number of r on the native architecture.
func (r Rule) Number() (int, error) {
	sc, err := libseccomp.GetSyscallFromName(r.Name)
	if err != nil {
		return -1, fmt.Errorf("seccomp: unknown syscall %q: %w", r.Name, err)
	}
	return int(sc), nil
}

// Merge concatenates rule lists. Rules for the same syscall are combined:
// if either allows any argument, the merged rule does; otherwise the
// argument patterns are joined. Errno rules must not clash with allow rules.
func Merge(lists ...[]Rule) ([]Rule, error) {
	byName := map[string]*Rule{}
	var order []string
	for _, l := range lists {
		for _, r := range l {
			if r.Why == "" {
				return nil, fmt.Errorf("seccomp: rule for %s has no reason", r.Name)
			}
			prev, ok := byName[r.Name]
			if !ok {
				rr := r
				rr.Any = append([]Match(nil), r.Any...)
				byName[r.Name] = &rr
				order = append(order, r.Name)
				continue
			}
			if prev.Errno != r.Errno {
				return nil, fmt.Errorf("seccomp: conflicting rules for %s", r.Name)
			}
			if len(prev.Any) == 0 || len(r.Any) == 0 {
				prev.Any = nil
			} else {
				prev.Any = append(prev.Any, r.Any...)
			}
			prev.Why += "; " + r.Why
		}
	}
	out := make([]Rule, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out, nil
}

// MustMerge is Merge for static tables, which a test checks.
func MustMerge(lists ...[]Rule) []Rule {
	r, err := Merge(lists...)
	if err != nil {
		panic(err)
	}
	return r
}

// Allowed returns the names of the syscalls rules let through to the kernel
// (Errno rules excluded), sorted.
func Allowed(rules []Rule) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range rules {
		if r.Errno == 0 && !seen[r.Name] {
			seen[r.Name] = true
			names = append(names, r.Name)
		}
	}
	sort.Strings(names)
	return names
}

func toCompare(c Cond) (libseccomp.ScmpCondition, error) {
	switch c.Op {
	case OpEq:
		return libseccomp.MakeCondition(c.Arg, libseccomp.CompareEqual, c.Value)
	case OpMaskedEq:
		return libseccomp.MakeCondition(c.Arg, libseccomp.CompareMaskedEqual, c.Mask, c.Value)
	case OpLess:
		return libseccomp.MakeCondition(c.Arg, libseccomp.CompareLess, c.Value)
	case OpGreaterEq:
		return libseccomp.MakeCondition(c.Arg, libseccomp.CompareGreaterEqual, c.Value)
	}
	return libseccomp.ScmpCondition{}, fmt.Errorf("seccomp: bad comparison %d", c.Op)
}

// build compiles rules into a libseccomp filter whose default and bad-arch
// actions kill the process.
func build(rules []Rule) (*libseccomp.ScmpFilter, error) {
	f, err := libseccomp.NewFilter(libseccomp.ActKillProcess)
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	fail := func(err error) (*libseccomp.ScmpFilter, error) {
		f.Release()
		return nil, err
	}
	if err := f.SetBadArchAction(libseccomp.ActKillProcess); err != nil {
		return fail(fmt.Errorf("seccomp: bad-arch action: %w", err))
	}
	if err := f.SetNoNewPrivsBit(true); err != nil {
		return fail(fmt.Errorf("seccomp: no_new_privs: %w", err))
	}
	for _, r := range rules {
		sc, err := libseccomp.GetSyscallFromName(r.Name)
		if err != nil {
			return fail(fmt.Errorf("seccomp: unknown syscall %q: %w", r.Name, err))
		}
		act := libseccomp.ActAllow
		if r.Errno != 0 {
			act = libseccomp.ActErrno.SetReturnCode(int16(r.Errno))
		}
		if len(r.Any) == 0 {
			if err := f.AddRuleExact(sc, act); err != nil {
				return fail(fmt.Errorf("seccomp: rule %s: %w", r.Name, err))
			}
			continue
		}
		for _, m := range r.Any {
			conds := make([]libseccomp.ScmpCondition, 0, len(m))
			for _, c := range m {
				sc, err := toCompare(c)
				if err != nil {
					return fail(fmt.Errorf("seccomp: rule %s: %w", r.Name, err))
				}
				conds = append(conds, sc)
			}
			if err := f.AddRuleConditionalExact(sc, act, conds); err != nil {
				return fail(fmt.Errorf("seccomp: rule %s (%v): %w", r.Name, m, err))
			}
		}
	}
	return f, nil
}

// Check reports whether rules compile into a filter.
func Check(rules []Rule) error {
	f, err := build(rules)
	if err != nil {
		return err
	}
	f.Release()
	return nil
}

// Install compiles rules and loads the filter on every thread of the calling
// process (TSYNC), setting no_new_privs first. From then on a syscall outside
// the rules kills the process. It fails, installing nothing, if TSYNC cannot
// synchronise a thread.
func Install(rules []Rule) error {
	f, err := build(rules)
	if err != nil {
		return err
	}
	defer f.Release()
	// libseccomp asks for TSYNC when the kernel has it (all supported
	// kernels: 3.17+); make sure it did rather than filter one thread.
	if api, err := libseccomp.GetAPI(); err != nil || api < 3 {
		return fmt.Errorf("seccomp: libseccomp API level %d (need 3 for TSYNC and KILL_PROCESS): %v", api, err)
	}
	prepareProcess()
	if err := f.Load(); err != nil {
		return fmt.Errorf("seccomp: load filter: %w", err)
	}
	return nil
}

// BPF compiles rules and returns the raw program: an array of struct
// sock_filter, for installing with seccomp(2) where libseccomp cannot run
// (a ptrace stub, which has no code of its own to run it).
func BPF(rules []Rule) ([]byte, error) {
	f, err := build(rules)
	if err != nil {
		return nil, err
	}
	defer f.Release()
	// seccomp_export_bpf_mem needs libseccomp 2.6; Debian 12 has 2.5, so
	// export into a memfd and read it back.
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("seccomp: memfd: %w", err)
	}
	file := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer file.Close()
	if err := f.ExportBPF(file); err != nil {
		return nil, fmt.Errorf("seccomp: export BPF: %w", err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(file)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 || len(b)%8 != 0 {
		return nil, fmt.Errorf("seccomp: exported program has %d bytes", len(b))
	}
	return b, nil
}

// argsText describes what arguments r allows.
func argsText(r Rule) string {
	if r.Errno != 0 {
		return "fails with " + unix.ErrnoName(r.Errno) + " (never reaches the kernel)"
	}
	if len(r.Any) == 0 {
		return "any arguments"
	}
	var alts []string
	for _, m := range r.Any {
		var cs []string
		for _, c := range m {
			cs = append(cs, c.String())
		}
		alts = append(alts, strings.Join(cs, " && "))
	}
	return strings.Join(alts, " || ")
}

// Markdown writes rules as a Markdown table (syscall, arguments, why),
// sorted by name: the README's lists are generated with it.
func Markdown(w io.Writer, rules []Rule) {
	sorted := append([]Rule(nil), rules...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	fmt.Fprintf(w, "| syscall | arguments | why |\n|---|---|---|\n")
	esc := strings.NewReplacer("|", "\\|", "\n", " ")
	for _, r := range sorted {
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", r.Name, esc.Replace(argsText(r)), esc.Replace(r.Why))
	}
}

// Format writes rules as a table for people: syscall, argument conditions,
// reason. Used by `pangolin syscalls --sentry|--gofer` and the README.
func Format(w io.Writer, rules []Rule) {
	sorted := append([]Rule(nil), rules...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, r := range sorted {
		fmt.Fprintf(w, "%-18s %s\n%18s   why: %s\n", r.Name, argsText(r), "", r.Why)
	}
	fmt.Fprintf(w, "\n%d syscalls reach the host kernel; anything else kills the process (SECCOMP_RET_KILL_PROCESS).\n", len(Allowed(rules)))
}
