// Package loader implements execve(2)'s image loading: #! scripts, ELF
// executables (ET_EXEC, PIE and static-PIE ET_DYN) with their PT_INTERP
// dynamic loader, and the initial stack (argv, envp, auxv).
package loader

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// ELF constants (include/uapi/linux/elf.h).
const (
	ptLoad   = 1
	ptInterp = 3
	ptPhdr   = 6
	ptGNUStk = 0x6474e551

	etExec = 2
	etDyn  = 3

	emX8664 = 62

	pfX = 1
	pfW = 2
	pfR = 4

	ehdrSize = 64
	phdrSize = 56
)

type progHeader struct {
	typ    uint32
	flags  uint32
	off    uint64
	vaddr  uint64
	filesz uint64
	memsz  uint64
	align  uint64
}

type elfInfo struct {
	typ    uint16
	entry  uint64
	phoff  uint64
	phnum  int
	phdrs  []progHeader
	interp string
}

// parseELF reads and validates the ELF header and program headers, with
// the checks of load_elf_binary() and elf_read_implies_exec(). Every field
// comes from an untrusted file: bad values are ENOEXEC, never a panic.
func parseELF(f interface {
	ReadAt([]byte, int64) (int, error)
}) (*elfInfo, error) {
	var hdr [ehdrSize]byte
	if n, err := f.ReadAt(hdr[:], 0); err != nil && n < ehdrSize || n < ehdrSize {
		return nil, unix.ENOEXEC
	}
	if string(hdr[:4]) != "\x7fELF" || hdr[4] != 2 /* ELFCLASS64 */ || hdr[5] != 1 /* LSB */ || hdr[6] != 1 {
		return nil, unix.ENOEXEC
	}
	le := binary.LittleEndian
	info := &elfInfo{
		typ:   le.Uint16(hdr[16:]),
		entry: le.Uint64(hdr[24:]),
		phoff: le.Uint64(hdr[32:]),
	}
	if info.typ != etExec && info.typ != etDyn {
		return nil, unix.ENOEXEC
	}
	if le.Uint16(hdr[18:]) != emX8664 {
		return nil, unix.ENOEXEC
	}
	if le.Uint16(hdr[54:]) != phdrSize {
		return nil, unix.ENOEXEC
	}
	info.phnum = int(le.Uint16(hdr[56:]))
	// ELF_MIN_ALIGN-sized program header table at most (65536 bytes).
	if info.phnum < 1 || info.phnum*phdrSize > 65536 {
		return nil, unix.ENOEXEC
	}
	if info.phoff > 1<<40 {
		return nil, unix.ENOEXEC
	}
	raw := make([]byte, info.phnum*phdrSize)
	if n, _ := f.ReadAt(raw, int64(info.phoff)); n != len(raw) {
		return nil, unix.ENOEXEC
	}
	for i := 0; i < info.phnum; i++ {
		b := raw[i*phdrSize:]
		ph := progHeader{
			typ:    le.Uint32(b[0:]),
			flags:  le.Uint32(b[4:]),
			off:    le.Uint64(b[8:]),
			vaddr:  le.Uint64(b[16:]),
			filesz: le.Uint64(b[32:]),
			memsz:  le.Uint64(b[40:]),
			align:  le.Uint64(b[48:]),
		}
		if ph.typ == ptLoad {
			if ph.filesz > ph.memsz || ph.vaddr+ph.memsz < ph.vaddr || ph.vaddr+ph.memsz > 1<<47 ||
				ph.off+ph.filesz < ph.off || ph.off%pageSize != ph.vaddr%pageSize {
				return nil, unix.ENOEXEC
			}
		}
		if ph.typ == ptInterp {
			if info.interp != "" || ph.filesz < 2 || ph.filesz > unix.PathMax {
				return nil, unix.ENOEXEC
			}
			buf := make([]byte, ph.filesz)
			if n, _ := f.ReadAt(buf, int64(ph.off)); n != len(buf) {
				return nil, unix.ENOEXEC
			}
			if buf[len(buf)-1] != 0 {
				return nil, unix.ENOEXEC
			}
			info.interp = string(buf[:len(buf)-1])
			for _, c := range []byte(info.interp) {
				if c == 0 {
					return nil, unix.ENOEXEC
				}
			}
		}
		info.phdrs = append(info.phdrs, ph)
	}
	return info, nil
}

// span returns the page-aligned extent of the PT_LOAD segments.
func (e *elfInfo) span() (lo, hi uint64, ok bool) {
	lo, hi = ^uint64(0), 0
	for _, ph := range e.phdrs {
		if ph.typ != ptLoad {
			continue
		}
		if s := ph.vaddr &^ (pageSize - 1); s < lo {
			lo = s
		}
		if end := (ph.vaddr + ph.memsz + pageSize - 1) &^ (pageSize - 1); end > hi {
			hi = end
		}
	}
	return lo, hi, hi > lo
}
