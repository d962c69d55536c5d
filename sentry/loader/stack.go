package loader

import (
	"crypto/rand"
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/sentry/mm"
)

type auxEntry struct {
	key, val uint64
}

// maxArgStrings bounds argv+envp bytes like Linux does (a quarter of the
// stack limit, MAX_ARG_STRLEN per string).
const maxArgStrlen = 32 * pageSize

// hostAuxv returns the value of key in the sentry's own auxiliary vector (for
// AT_HWCAP/AT_HWCAP2: the app runs on the same CPU).
func hostAuxv(key uint64) uint64 {
	av, err := unix.Auxv()
	if err != nil {
		return 0
	}
	for _, kv := range av {
		if uint64(kv[0]) == key {
			return uint64(kv[1])
		}
	}
	return 0
}

// buildStack lays out the initial process stack as create_elf_tables() and
// copy_strings() do, from the top down: the exec filename, envp strings,
// argv strings, the platform string and AT_RANDOM bytes, then (16-byte
// aligned) argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL.
func buildStack(a Args, m *mm.MemoryManager, top uintptr, argv []string, execfn string, aux []auxEntry) (uintptr, error) {
	total := len(execfn) + 1
	for _, s := range argv {
		if len(s)+1 > maxArgStrlen {
			return 0, unix.E2BIG
		}
		total += len(s) + 1
	}
	for _, s := range a.Envv {
		if len(s)+1 > maxArgStrlen {
			return 0, unix.E2BIG
		}
		total += len(s) + 1
	}
	if uint64(total) > a.StackLimit/4 && a.StackLimit != 0 {
		return 0, unix.E2BIG
	}
	sp := top
	push := func(b []byte) (uintptr, error) {
		sp -= uintptr(len(b))
		_, err := m.CopyOut(sp, b)
		return sp, err
	}
	pushStr := func(s string) (uintptr, error) {
		return push(append([]byte(s), 0))
	}
	execfnAddr, err := pushStr(execfn)
	if err != nil {
		return 0, err
	}
	envAddrs := make([]uintptr, len(a.Envv))
	for i := len(a.Envv) - 1; i >= 0; i-- {
		if envAddrs[i], err = pushStr(a.Envv[i]); err != nil {
			return 0, err
		}
	}
	argAddrs := make([]uintptr, len(argv))
	for i := len(argv) - 1; i >= 0; i-- {
		if argAddrs[i], err = pushStr(argv[i]); err != nil {
			return 0, err
		}
	}
	m.ArgStart, m.ArgEnd = sp, sp
	if len(argAddrs) > 0 {
		m.ArgStart = argAddrs[0]
		m.ArgEnd = argAddrs[len(argAddrs)-1] + uintptr(len(argv[len(argv)-1])) + 1
	}
	if len(envAddrs) > 0 {
		m.EnvStart = envAddrs[0]
		m.EnvEnd = envAddrs[len(envAddrs)-1] + uintptr(len(a.Envv[len(a.Envv)-1])) + 1
	} else {
		m.EnvStart, m.EnvEnd = m.ArgEnd, m.ArgEnd
	}
	platformAddr, err := pushStr("x86_64")
	if err != nil {
		return 0, err
	}
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	sp &^= 15
	randAddr, err := push(rnd[:])
	if err != nil {
		return 0, err
	}

	aux = append(aux,
		auxEntry{atHwcap, hostAuxv(atHwcap)},
		auxEntry{atPagesz, pageSize},
		auxEntry{atClktck, 100},
		auxEntry{atFlags, 0},
		auxEntry{atUID, uint64(a.UID)},
		auxEntry{atEUID, uint64(a.EUID)},
		auxEntry{atGID, uint64(a.GID)},
		auxEntry{atEGID, uint64(a.EGID)},
		auxEntry{atSecure, boolWord(a.Secure)},
		auxEntry{atRandom, uint64(randAddr)},
		auxEntry{atHwcap2, hostAuxv(atHwcap2)},
		auxEntry{atExecfn, uint64(execfnAddr)},
		auxEntry{atPlatform, uint64(platformAddr)},
		auxEntry{atNull, 0},
	)
	words := 1 + len(argv) + 1 + len(a.Envv) + 1 + 2*len(aux)
	sp -= uintptr(words * 8)
	sp &^= 15
	buf := make([]byte, 0, words*8)
	put := func(v uint64) { buf = binary.LittleEndian.AppendUint64(buf, v) }
	put(uint64(len(argv)))
	for _, p := range argAddrs {
		put(uint64(p))
	}
	put(0)
	for _, p := range envAddrs {
		put(uint64(p))
	}
	put(0)
	auxv := make([]uint64, 0, 2*len(aux))
	for _, e := range aux {
		put(e.key)
		put(e.val)
		auxv = append(auxv, e.key, e.val)
	}
	m.Auxv = auxv
	if _, err := m.CopyOut(sp, buf); err != nil {
		return 0, err
	}
	return sp, nil
}

func boolWord(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
