package loader

import (
	"crypto/rand"
	"encoding/binary"
	"strings"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/sentry/memmap"
	"pangolin/sentry/mm"
)

const pageSize = 4096

// File is an executable opened by the caller's VFS.
type File interface {
	ReadAt(dst []byte, off int64) (int, error)
	// MMapFile returns the file for private mappings.
	MMapFile() (memmap.File, error)
	// DevIno identifies the file in /proc/PID/maps.
	DevIno() (dev, ino uint64)
	Close()
}

// Opener opens path for execution: it resolves it relative to the task's
// root and cwd and checks that it is a regular file with execute permission
// (EACCES otherwise), as do_open_execat() does.
type Opener func(path string) (File, error)

// Args are the inputs of Load.
type Args struct {
	Open     Opener
	Filename string
	Argv     []string
	Envv     []string
	MM       *mm.MemoryManager
	// StackLimit is RLIMIT_STACK's soft value.
	StackLimit uint64
	UID, EUID  uint32
	GID, EGID  uint32
	// Secure is AT_SECURE (a set-ID or capability-gaining exec).
	Secure bool
	// MapVDSO, if set, maps the vDSO into the new address space and
	// returns its base for AT_SYSINFO_EHDR (arch_setup_additional_pages()).
	MapVDSO func(m *mm.MemoryManager) (uintptr, error)
	// BinaryCreds, if set, is called with the binary that will be loaded
	// (after #! scripts are resolved; a script's own set-ID bits never
	// count, as in Linux) before the stack is built, and returns the IDs
	// and AT_SECURE the new image runs with (bprm_fill_uid()).
	BinaryCreds func(f File) (uid, euid, gid, egid uint32, secure bool)
}

// Result describes the loaded image.
type Result struct {
	Entry uintptr
	Stack uintptr
	// Argv is the final argument vector (after #! rewriting).
	Argv []string
	// Filename is the path that was finally loaded (the ELF, not the
	// script) for /proc/self/exe.
	Filename string
}

// maxScriptDepth bounds #! recursion (BINPRM_MAX_RECURSION is 4).
const maxScriptDepth = 4

// elfDynBase is ELF_ET_DYN_BASE on x86-64 (2/3 of the 47-bit space).
const elfDynBase = 0x555555554000

// Load loads the program into a.MM, which must be empty, and builds its
// initial stack.
func Load(a Args) (*Result, error) {
	argv := append([]string(nil), a.Argv...)
	filename := a.Filename
	execfn := a.Filename
	for depth := 0; ; depth++ {
		f, err := a.Open(filename)
		if err != nil {
			return nil, err
		}
		var head [256]byte // BINPRM_BUF_SIZE
		n, _ := f.ReadAt(head[:], 0)
		if n >= 2 && head[0] == '#' && head[1] == '!' {
			f.Close()
			if depth >= maxScriptDepth {
				return nil, unix.ELOOP
			}
			interp, arg, err := parseShebang(head[2:n])
			if err != nil {
				return nil, err
			}
			nargv := []string{interp}
			if arg != "" {
				nargv = append(nargv, arg)
			}
			nargv = append(nargv, filename)
			if len(argv) > 1 {
				nargv = append(nargv, argv[1:]...)
			}
			argv = nargv
			filename = interp
			continue
		}
		if a.BinaryCreds != nil {
			a.UID, a.EUID, a.GID, a.EGID, a.Secure = a.BinaryCreds(f)
		}
		res, err := loadELF(a, f, filename, argv, execfn)
		f.Close()
		return res, err
	}
}

// parseShebang parses a #! line (load_script() in fs/binfmt_script.c): the
// interpreter, then everything after the following whitespace as one
// argument, trailing whitespace stripped.
func parseShebang(b []byte) (string, string, error) {
	line := string(b)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	} else if len(b) == 254 {
		// The interpreter line is longer than the buffer; Linux
		// accepts it only if the interpreter name itself fits.
		if strings.TrimLeft(line, " \t") == "" {
			return "", "", unix.ENOEXEC
		}
	}
	line = strings.Trim(line, " \t")
	if line == "" {
		return "", "", unix.ENOEXEC
	}
	interp, arg := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		interp = line[:i]
		arg = strings.Trim(line[i:], " \t")
	}
	return interp, arg, nil
}

func progPerms(flags uint32) platform.AccessType {
	return platform.AccessType{Read: flags&pfR != 0, Write: flags&pfW != 0, Execute: flags&pfX != 0}
}

// mapImage maps e's PT_LOAD segments with load bias bias.
func mapImage(m *mm.MemoryManager, f File, e *elfInfo, bias uint64, name string) error {
	mf, err := f.MMapFile()
	if err != nil {
		return unix.EACCES
	}
	defer mf.DecRef()
	dev, ino := f.DevIno()
	for _, ph := range e.phdrs {
		if ph.typ != ptLoad || ph.memsz == 0 {
			continue
		}
		perms := progPerms(ph.flags)
		vaddr := bias + ph.vaddr
		start := vaddr &^ (pageSize - 1)
		fileEnd := vaddr + ph.filesz
		memEnd := (vaddr + ph.memsz + pageSize - 1) &^ (pageSize - 1)
		fileMapEnd := (fileEnd + pageSize - 1) &^ (pageSize - 1)
		if ph.filesz > 0 {
			if _, err := m.MMap(mm.MMapOpts{
				Addr: uintptr(start), Length: uintptr(fileMapEnd - start), Fixed: true,
				Perms: perms, Private: true, File: mf, Offset: ph.off &^ (pageSize - 1),
				Dev: dev, Ino: ino, Name: name,
			}); err != nil {
				return err
			}
			// Zero the tail of the last file page that belongs to
			// .bss (padzero()).
			if ph.memsz > ph.filesz && fileMapEnd > fileEnd {
				if perms.Write {
					if err := m.ZeroOut(uintptr(fileEnd), uintptr(fileMapEnd-fileEnd)); err != nil {
						return err
					}
				}
			}
		} else {
			fileMapEnd = start
		}
		if memEnd > fileMapEnd {
			if _, err := m.MMap(mm.MMapOpts{
				Addr: uintptr(fileMapEnd), Length: uintptr(memEnd - fileMapEnd), Fixed: true,
				Perms: perms, Private: true,
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// layout returns the code and data ranges of e loaded at bias, as
// load_elf_binary() computes mm->start_code, end_code, start_data and
// end_data: code spans the executable PT_LOAD segments, data ends at the
// highest segment's file end.
func (e *elfInfo) layout(bias uint64) (startCode, endCode, startData, endData uintptr) {
	sc, ec, sd, ed := ^uint64(0), uint64(0), uint64(0), uint64(0)
	for _, ph := range e.phdrs {
		if ph.typ != ptLoad {
			continue
		}
		exec := ph.flags&pfX != 0
		if k := ph.vaddr; exec && k < sc {
			sc = k
		}
		if k := ph.vaddr; sd < k {
			sd = k
		}
		if k := ph.vaddr + ph.filesz; exec && ec < k {
			ec = k
		}
		if k := ph.vaddr + ph.filesz; ed < k {
			ed = k
		}
	}
	if sc == ^uint64(0) {
		sc = 0
	}
	return uintptr(sc + bias), uintptr(ec + bias), uintptr(sd + bias), uintptr(ed + bias)
}

// randomPages returns a random page-aligned offset below limit.
func randomPages(limit uint64) uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return (binary.LittleEndian.Uint64(b[:]) % (limit / pageSize)) * pageSize
}

func loadELF(a Args, f File, filename string, argv []string, execfn string) (*Result, error) {
	e, err := parseELF(f)
	if err != nil {
		return nil, err
	}
	m := a.MM
	lo, hi, ok := e.span()
	if !ok {
		return nil, unix.ENOEXEC
	}
	var bias uint64
	if e.typ == etDyn {
		bias = elfDynBase + randomPages(1<<28) - lo
	}
	if bias+hi > uint64(m.MaxAddress()) || bias+lo < 0x10000 {
		return nil, unix.ENOMEM
	}
	if err := mapImage(m, f, e, bias, filename); err != nil {
		return nil, err
	}
	entry := bias + e.entry
	m.StartCode, m.EndCode, m.StartData, m.EndData = e.layout(bias)

	// The program header table's address for AT_PHDR: PT_PHDR if present,
	// else where the table falls inside the first mapped segment.
	var phdrAddr uint64
	for _, ph := range e.phdrs {
		if ph.typ == ptPhdr {
			phdrAddr = bias + ph.vaddr
		}
	}
	if phdrAddr == 0 {
		for _, ph := range e.phdrs {
			if ph.typ == ptLoad && ph.off <= e.phoff && e.phoff < ph.off+ph.filesz {
				phdrAddr = bias + ph.vaddr + (e.phoff - ph.off)
				break
			}
		}
	}

	// The heap starts after the image, randomized (arch_randomize_brk()).
	m.SetBrk(uintptr(bias + hi + randomPages(32<<20)))

	// Stack and mmap base (mmap_base() in arch/x86/mm/mmap.c).
	stackLimit := a.StackLimit
	if stackLimit < 128<<10 {
		stackLimit = 128 << 10
	}
	if stackLimit > 1<<30 {
		stackLimit = 1 << 30
	}
	stackTop := uint64(m.MaxAddress()) - randomPages(16<<20) - pageSize
	gap := max(stackLimit, 128<<20)
	m.SetMmapBase(uintptr(stackTop - gap - randomPages(1<<30)))
	if _, err := m.MMap(mm.MMapOpts{
		Addr: uintptr(stackTop - stackLimit), Length: uintptr(stackLimit), Fixed: true,
		Perms: platform.ReadWrite, Private: true, Name: "[stack]", GrowsDown: true,
	}); err != nil {
		return nil, err
	}

	var interpBase uint64
	if e.interp != "" {
		fi, err := a.Open(e.interp)
		if err != nil {
			if err == unix.EACCES {
				return nil, err
			}
			return nil, unix.ENOENT
		}
		ie, err := parseELF(fi)
		if err != nil {
			fi.Close()
			return nil, unix.ELIBBAD
		}
		ilo, ihi, ok := ie.span()
		if !ok || ie.interp != "" {
			fi.Close()
			return nil, unix.ELIBBAD
		}
		var ibias uint64
		if ie.typ == etDyn {
			// Reserve the whole span so the segments land together.
			base, err := m.MMap(mm.MMapOpts{Length: uintptr(ihi - ilo), Private: true})
			if err != nil {
				fi.Close()
				return nil, err
			}
			ibias = uint64(base) - ilo
		}
		err = mapImage(m, fi, ie, ibias, e.interp)
		fi.Close()
		if err != nil {
			return nil, err
		}
		interpBase = ibias + ilo
		if ie.typ == etExec {
			interpBase = 0
		}
		entry = ibias + ie.entry
	}

	// The vDSO goes in after the interpreter, as load_elf_binary() maps
	// it, and comes first in the auxiliary vector (ARCH_DLINFO).
	var aux []auxEntry
	if a.MapVDSO != nil {
		base, err := a.MapVDSO(m)
		if err != nil {
			return nil, err
		}
		aux = append(aux, auxEntry{atSysinfoEhdr, uint64(base)})
	}
	sp, err := buildStack(a, m, uintptr(stackTop), argv, execfn, append(aux, []auxEntry{
		{atPhdr, phdrAddr},
		{atPhent, phdrSize},
		{atPhnum, uint64(e.phnum)},
		{atBase, interpBase},
		{atEntry, bias + e.entry},
	}...))
	if err != nil {
		return nil, err
	}
	m.StartStack = sp
	return &Result{Entry: uintptr(entry), Stack: sp, Argv: argv, Filename: filename}, nil
}
