package loader

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

type bytesFile []byte

func (b bytesFile) ReadAt(dst []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, nil
	}
	return copy(dst, b[off:]), nil
}

func TestParseShebang(t *testing.T) {
	for _, tc := range []struct {
		in, interp, arg string
		err             error
	}{
		{"/bin/sh\n", "/bin/sh", "", nil},
		{"  /bin/sh  -e -x \nrest", "/bin/sh", "-e -x", nil},
		{"/usr/bin/env\tpython3\n", "/usr/bin/env", "python3", nil},
		{"   \n", "", "", unix.ENOEXEC},
	} {
		interp, arg, err := parseShebang([]byte(tc.in))
		if interp != tc.interp || arg != tc.arg || !errors.Is(err, tc.err) && err != tc.err {
			t.Errorf("parseShebang(%q) = %q, %q, %v; want %q, %q, %v", tc.in, interp, arg, err, tc.interp, tc.arg, tc.err)
		}
	}
}

func TestParseELFRejectsGarbage(t *testing.T) {
	valid, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("busybox-static not installed (apt-get install busybox-static)")
	}
	info, err := parseELF(bytesFile(valid))
	if err != nil {
		t.Fatalf("parseELF(busybox): %v", err)
	}
	if _, _, ok := info.span(); !ok {
		t.Fatal("busybox has no PT_LOAD segments")
	}
	bad := func(mutate func(b []byte)) []byte {
		b := append([]byte(nil), valid[:4096]...)
		mutate(b)
		return b
	}
	for name, b := range map[string][]byte{
		"empty":        {},
		"short":        []byte("\x7fELF"),
		"32-bit":       bad(func(b []byte) { b[4] = 1 }),
		"big endian":   bad(func(b []byte) { b[5] = 2 }),
		"wrong arch":   bad(func(b []byte) { b[18] = 3 }),
		"bad phentsz":  bad(func(b []byte) { b[54] = 32 }),
		"no phdrs":     bad(func(b []byte) { b[56], b[57] = 0, 0 }),
		"phoff beyond": bad(func(b []byte) { b[32], b[33], b[34] = 0xff, 0xff, 0xff }),
		"core file":    bad(func(b []byte) { b[16] = 4 }),
	} {
		if _, err := parseELF(bytesFile(b)); !errors.Is(err, unix.ENOEXEC) {
			t.Errorf("%s: got %v, want ENOEXEC", name, err)
		}
	}
}
