package devpts

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestLdiscInput(t *testing.T) {
	raw := defaultTermios()
	raw.Lflag &^= unix.ICANON | unix.ECHO | unix.ISIG
	noecho := defaultTermios()
	noecho.Lflag &^= unix.ECHO
	for _, tc := range []struct {
		name    string
		termios Termios
		in      string
		reads   []string // successive reads of 64 bytes
		echo    string
		sigs    []unix.Signal
	}{
		{"line", defaultTermios(), "hi\r", []string{"hi\n"}, "hi\r\n", nil},
		{"erase", defaultTermios(), "ab\x7fc\n", []string{"ac\n"}, "ab\b \bc\r\n", nil},
		{"erase ctl", defaultTermios(), "a\x01\x7f\n", []string{"a\n"}, "a^A\b \b\b \b\r\n", nil},
		{"erase nothing", defaultTermios(), "\x7f\n", []string{"\n"}, "\r\n", nil},
		{"kill", defaultTermios(), "abc\x15d\n", []string{"d\n"}, "abc\b \b\b \b\b \bd\r\n", nil},
		{"werase", defaultTermios(), "one two\x17x\n", []string{"one x\n"}, "one two\b \b\b \b\b \bx\r\n", nil},
		{"eof mid line", defaultTermios(), "ab\x04", []string{"ab"}, "ab", nil},
		{"eof empty", defaultTermios(), "\x04", []string{""}, "", nil},
		{"two lines", defaultTermios(), "a\nb\n", []string{"a\n", "b\n"}, "a\r\nb\r\n", nil},
		{"intr", defaultTermios(), "abc\x03", nil, "abc^C", []unix.Signal{unix.SIGINT}},
		{"quit susp", defaultTermios(), "\x1c\x1a", nil, "^\\^Z", []unix.Signal{unix.SIGQUIT, unix.SIGTSTP}},
		{"lnext", defaultTermios(), "\x16\x03\n", []string{"\x03\n"}, "^\b^C\r\n", nil},
		{"no echo", noecho, "secret\n", []string{"secret\n"}, "", nil},
		{"raw", raw, "\x03x\r", []string{"\x03x\n"}, "", nil},
		{"utf8 erase", defaultTermios(), "é\x7f\n", []string{"\n"}, "é\b \b\r\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &ldisc{termios: tc.termios}
			var sigs []unix.Signal
			l.input([]byte(tc.in), func(s unix.Signal) { sigs = append(sigs, s) })
			for i, want := range tc.reads {
				if !l.readable() {
					t.Fatalf("read %d: nothing readable", i)
				}
				buf := make([]byte, 64)
				n, _ := l.read(buf)
				if string(buf[:n]) != want {
					t.Fatalf("read %d: %q, want %q", i, buf[:n], want)
				}
			}
			if len(tc.reads) == 0 && l.readable() {
				t.Fatalf("unexpected input readable")
			}
			if string(l.out) != tc.echo {
				t.Errorf("echo %q, want %q", l.out, tc.echo)
			}
			if len(sigs) != len(tc.sigs) {
				t.Fatalf("signals %v, want %v", sigs, tc.sigs)
			}
			for i := range sigs {
				if sigs[i] != tc.sigs[i] {
					t.Fatalf("signals %v, want %v", sigs, tc.sigs)
				}
			}
		})
	}
}

func TestLdiscOutput(t *testing.T) {
	l := &ldisc{termios: defaultTermios()}
	l.output([]byte("a\nb"))
	if string(l.out) != "a\r\nb" {
		t.Fatalf("onlcr: %q", l.out)
	}
	l = &ldisc{termios: defaultTermios()}
	l.termios.Oflag &^= unix.OPOST
	l.output([]byte("a\nb"))
	if string(l.out) != "a\nb" {
		t.Fatalf("no opost: %q", l.out)
	}
}

// Leaving canonical mode makes the line being edited readable.
func TestLdiscCanonToRaw(t *testing.T) {
	l := &ldisc{termios: defaultTermios()}
	l.input([]byte("partial"), func(unix.Signal) {})
	if l.readable() {
		t.Fatal("partial line readable in canonical mode")
	}
	tm := l.termios
	tm.Lflag &^= unix.ICANON
	l.setTermios(tm)
	buf := make([]byte, 64)
	if n, _ := l.read(buf); string(buf[:n]) != "partial" {
		t.Fatalf("got %q", buf[:n])
	}
}

func TestTermiosMarshal(t *testing.T) {
	tm := defaultTermios()
	b := tm.marshal()
	if len(b) != 36 {
		t.Fatalf("len %d", len(b))
	}
	if got := unmarshalTermios(b); got != tm {
		t.Fatalf("round trip %+v != %+v", got, tm)
	}
}

// Input stops at the limit, so a master writer blocks.
func TestLdiscInputLimit(t *testing.T) {
	l := &ldisc{termios: defaultTermios()}
	l.termios.Lflag &^= unix.ICANON | unix.ECHO
	big := make([]byte, maxInput+10)
	for i := range big {
		big[i] = 'x'
	}
	if n := l.input(big, func(unix.Signal) {}); n != maxInput {
		t.Fatalf("took %d, want %d", n, maxInput)
	}
}
