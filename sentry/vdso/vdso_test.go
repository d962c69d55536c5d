package vdso

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pangolin/platform"
	"pangolin/sentry/memfile"
	"pangolin/sentry/mm"
)

// readSum parses vdso.sum: the compiler line and file -> hash.
func readSum(t *testing.T) (string, map[string]string) {
	t.Helper()
	b, err := os.ReadFile("vdso.sum")
	if err != nil {
		t.Fatal(err)
	}
	var compiler string
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, "compiler "); ok {
			compiler = c
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("vdso.sum: bad line %q", line)
		}
		sums[f[1]] = f[0]
	}
	return compiler, sums
}

// TestBlobCurrent fails when the committed image is not built from the
// current sources (run `make vdso`), and rebuilds it to check byte for byte
// when the compiler that built it is installed.
func TestBlobCurrent(t *testing.T) {
	compiler, sums := readSum(t)
	for _, f := range []string{"build.sh", "vdso.c", "vdso.lds", "vvar.h", "../vdso.so"} {
		b, err := os.ReadFile(filepath.Join("src", f))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		if got := hex.EncodeToString(h[:]); got != sums[f] {
			t.Errorf("%s changed since vdso.so was built (sha256 %s, vdso.sum %s): run `make vdso`", f, got, sums[f])
		}
	}
	if !bytes.Equal(blob, mustRead(t, "vdso.so")) {
		t.Error("embedded image differs from vdso.so")
	}
	out, err := exec.Command("gcc", "--version").Output()
	if err != nil {
		t.Skipf("no gcc to rebuild the vDSO (%v); source hashes checked", err)
	}
	if got := strings.SplitN(string(out), "\n", 2)[0]; got != compiler {
		t.Skipf("installed %q, vdso.so was built by %q; source hashes checked", got, compiler)
	}
	dst := filepath.Join(t.TempDir(), "vdso.so")
	if out, err := exec.Command("src/build.sh", dst).CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	if !bytes.Equal(mustRead(t, dst), blob) {
		t.Error("rebuilding from source gives a different image: run `make vdso`")
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestImageShape checks what the loader and glibc rely on: an ET_DYN x86-64
// object with one read+execute PT_LOAD, no interpreter, no relocations, no
// writable or undefined symbols, soname linux-vdso.so.1, and every entry
// point exported at version LINUX_2.6.
func TestImageShape(t *testing.T) {
	f, err := elf.NewFile(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_DYN {
		t.Errorf("class %v machine %v type %v", f.Class, f.Machine, f.Type)
	}
	loads := 0
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			loads++
			if p.Flags != elf.PF_R|elf.PF_X || p.Vaddr != 0 || p.Off != 0 {
				t.Errorf("PT_LOAD flags %v vaddr %#x off %#x", p.Flags, p.Vaddr, p.Off)
			}
			if p.Memsz != p.Filesz || p.Memsz > uint64(len(blob)) {
				t.Errorf("PT_LOAD memsz %#x filesz %#x: the image must be all file", p.Memsz, p.Filesz)
			}
		case elf.PT_INTERP, elf.PT_TLS:
			t.Errorf("unexpected %v", p.Type)
		}
	}
	if loads != 1 {
		t.Errorf("%d PT_LOAD segments, want 1", loads)
	}
	for _, s := range f.Sections {
		if s.Type == elf.SHT_RELA || s.Type == elf.SHT_REL {
			t.Errorf("relocation section %s", s.Name)
		}
		if s.Flags&elf.SHF_ALLOC != 0 && s.Size > 0 && (s.Name == ".data" || s.Name == ".bss" || s.Name == ".got" || s.Name == ".got.plt") {
			t.Errorf("writable data section %s (%d bytes): the image is shared", s.Name, s.Size)
		}
	}
	if so, err := f.DynString(elf.DT_SONAME); err != nil || len(so) != 1 || so[0] != "linux-vdso.so.1" {
		t.Errorf("soname %v, %v", so, err)
	}
	for _, tag := range []elf.DynTag{elf.DT_RELA, elf.DT_REL, elf.DT_JMPREL, elf.DT_NEEDED, elf.DT_TEXTREL} {
		if v, _ := f.DynValue(tag); len(v) != 0 {
			t.Errorf("dynamic tag %v present", tag)
		}
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]elf.Symbol{}
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF {
			t.Errorf("undefined symbol %s", s.Name)
		}
		got[s.Name] = s
	}
	for _, name := range []string{"clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu"} {
		s, ok := got["__vdso_"+name]
		if !ok || s.Version != "LINUX_2.6" || elf.ST_TYPE(s.Info) != elf.STT_FUNC || elf.ST_BIND(s.Info) != elf.STB_GLOBAL {
			t.Errorf("__vdso_%s: %+v", name, s)
		}
		a, ok := got[name]
		if !ok || a.Value != s.Value || a.Version != "LINUX_2.6" || elf.ST_BIND(a.Info) != elf.STB_WEAK {
			t.Errorf("%s is not a weak alias of __vdso_%s: %+v", name, name, a)
		}
	}
}

// TestMap maps the image into an address space: [vvar] right below [vdso],
// holding the image's bytes and the data page, read-only, and the data page
// can never become writable.
func TestMap(t *testing.T) {
	mf, err := memfile.New("vdso-test", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	img, err := New(mf)
	if err != nil {
		t.Fatal(err)
	}
	img.DataPage()[0] = 42
	m := mm.New(mf, nil, 1<<47)
	m.SetMmapBase(1 << 40)
	base, err := img.Map(m)
	if err != nil {
		t.Fatal(err)
	}
	var maps []string
	for _, e := range m.Maps() {
		maps = append(maps, e.String())
	}
	if len(maps) != 2 || !strings.HasSuffix(maps[0], " [vvar]") || !strings.Contains(maps[0], " r--p ") ||
		!strings.HasSuffix(maps[1], " [vdso]") || !strings.Contains(maps[1], " r-xp ") {
		t.Fatalf("maps:\n%s", strings.Join(maps, "\n"))
	}
	head := make([]byte, 4)
	if _, err := m.CopyIn(base, head); err != nil || string(head) != "\x7fELF" {
		t.Errorf("vDSO at %#x reads %q, %v", base, head, err)
	}
	b := make([]byte, 1)
	if _, err := m.CopyIn(base-pageSize, b); err != nil || b[0] != 42 {
		t.Errorf("data page reads %v, %v", b, err)
	}
	if _, err := m.CopyOut(base-pageSize, b); err == nil {
		t.Error("data page writable")
	}
	if err := m.MProtect(base-pageSize, pageSize, platform.ReadWrite, false); err == nil {
		t.Error("mprotect made the data page writable")
	}
	// Making the vDSO writable and writing copies the page: the shared
	// image stays intact.
	if err := m.MProtect(base, pageSize, platform.AnyAccess, false); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CopyOut(base, []byte{0}); err != nil {
		t.Fatal(err)
	}
	if img.text.mf.Slice(img.text.off, 1)[0] != 0x7f {
		t.Error("writing a private vDSO mapping changed the shared image")
	}
	if err := m.MUnmap(base-pageSize, pageSize+uintptr(img.text.size)); err != nil || len(m.Maps()) != 0 {
		t.Errorf("munmap: %v, %d maps left", err, len(m.Maps()))
	}
}
