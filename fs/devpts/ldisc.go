package devpts

import (
	"golang.org/x/sys/unix"
)

// Termios is the kernel's struct termios (asm-generic/termbits.h), what
// TCGETS and TCSETS copy: 36 bytes.
type Termios struct {
	Iflag, Oflag, Cflag, Lflag uint32
	Line                       uint8
	Cc                         [nccs]uint8
}

const (
	nccs       = 19
	termiosLen = 4*4 + 1 + nccs
)

// Control character indices (c_cc).
const (
	vintr    = 0
	vquit    = 1
	verase   = 2
	vkill    = 3
	veof     = 4
	vtime    = 5
	vmin     = 6
	vstart   = 8
	vstop    = 9
	vsusp    = 10
	veol     = 11
	vreprint = 12
	vdiscard = 13
	vwerase  = 14
	vlnext   = 15
	veol2    = 16
)

// defaultTermios is tty_std_termios (drivers/tty/tty_io.c) with
// INIT_C_CC: canonical mode, echo, signals, CR->NL on input, NL->CRNL on
// output.
func defaultTermios() Termios {
	t := Termios{
		Iflag: unix.ICRNL | unix.IXON | unix.IUTF8,
		Oflag: unix.OPOST | unix.ONLCR,
		Cflag: unix.B38400 | unix.CS8 | unix.CREAD | unix.HUPCL,
		Lflag: unix.ISIG | unix.ICANON | unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHOCTL | unix.ECHOKE | unix.IEXTEN,
	}
	t.Cc[vintr] = 3     // ^C
	t.Cc[vquit] = 28    // ^\
	t.Cc[verase] = 127  // DEL
	t.Cc[vkill] = 21    // ^U
	t.Cc[veof] = 4      // ^D
	t.Cc[vmin] = 1      //
	t.Cc[vstart] = 17   // ^Q
	t.Cc[vstop] = 19    // ^S
	t.Cc[vsusp] = 26    // ^Z
	t.Cc[vreprint] = 18 // ^R
	t.Cc[vdiscard] = 15 // ^O
	t.Cc[vwerase] = 23  // ^W
	t.Cc[vlnext] = 22   // ^V
	return t
}

// marshal encodes t as the kernel lays it out.
func (t *Termios) marshal() []byte {
	b := make([]byte, termiosLen)
	for i, v := range []uint32{t.Iflag, t.Oflag, t.Cflag, t.Lflag} {
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	b[16] = t.Line
	copy(b[17:], t.Cc[:])
	return b
}

// unmarshalTermios decodes the kernel layout.
func unmarshalTermios(b []byte) Termios {
	var t Termios
	f := []*uint32{&t.Iflag, &t.Oflag, &t.Cflag, &t.Lflag}
	for i, p := range f {
		*p = uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24
	}
	t.Line = b[16]
	copy(t.Cc[:], b[17:termiosLen])
	return t
}

// Limits of the queues (N_TTY_BUF_SIZE is 4096 for the line; the output
// side is bounded so a writer whose output nobody reads blocks).
const (
	maxLine   = 4095
	maxInput  = 64 << 10
	maxOutput = 64 << 10
)

// chunk is readable input: a completed line in canonical mode (eof: the
// line was ended by VEOF, and an empty one reads as end of file), or raw
// bytes in non-canonical mode.
type chunk struct {
	data []byte
	eof  bool
}

// ldisc is the line discipline, N_TTY (drivers/tty/n_tty.c), without its
// locking: Terminal.mu protects every field. Input is what the master
// writes (keystrokes) and the replica reads; output is what the replica
// writes and the master reads.
type ldisc struct {
	termios Termios
	// line is the canonical line being edited.
	line []byte
	// ready is input the replica can read.
	ready []chunk
	// readyLen is the byte count of ready.
	readyLen int
	// out is output for the master to read.
	out []byte
	// lnext is set after VLNEXT: the next character is literal.
	lnext bool
	// stopped is set by VSTOP (^S) with IXON; output waits for VSTART.
	stopped bool
}

// signalFn sends a terminal-generated signal to the foreground process
// group.
type signalFn func(sig unix.Signal)

func (l *ldisc) lflag(f uint32) bool { return l.termios.Lflag&f != 0 }
func (l *ldisc) iflag(f uint32) bool { return l.termios.Iflag&f != 0 }

// isCtl reports whether c echoes as ^X under ECHOCTL.
func isCtl(c byte) bool { return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f }

// echo appends c's echo to the output (echo_char() with ECHOCTL).
func (l *ldisc) echo(c byte) {
	if l.lflag(unix.ECHOCTL) && isCtl(c) {
		l.output([]byte{'^', c ^ 0x40})
		return
	}
	l.output([]byte{c})
}

// output applies output processing (OPOST: ONLCR, OCRNL, ONOCR, ONLRET)
// and queues for the master (do_output_char()).
func (l *ldisc) output(b []byte) {
	if l.termios.Oflag&unix.OPOST == 0 {
		l.out = append(l.out, b...)
		return
	}
	for _, c := range b {
		switch {
		case c == '\n' && l.termios.Oflag&unix.ONLCR != 0:
			l.out = append(l.out, '\r', '\n')
		case c == '\r' && l.termios.Oflag&unix.OCRNL != 0:
			l.out = append(l.out, '\n')
		default:
			l.out = append(l.out, c)
		}
	}
}

// push makes the canonical line readable.
func (l *ldisc) push(eof bool) {
	l.ready = append(l.ready, chunk{data: l.line, eof: eof})
	l.readyLen += len(l.line)
	l.line = nil
}

// flushInput discards unread input (TCIFLUSH, or a signal character
// without NOFLSH).
func (l *ldisc) flushInput() {
	l.line, l.ready, l.readyLen = nil, nil, 0
}

// erase removes the last character of the line, echoing "\b \b" (twice
// for a character echoed as ^X) under ECHOE.
func (l *ldisc) erase() bool {
	if len(l.line) == 0 {
		return false
	}
	c := l.line[len(l.line)-1]
	// Multibyte UTF-8 (IUTF8): erase the whole character.
	n := 1
	if l.iflag(unix.IUTF8) {
		for n < len(l.line) && l.line[len(l.line)-n]&0xc0 == 0x80 {
			n++
		}
	}
	l.line = l.line[:len(l.line)-n]
	if l.lflag(unix.ECHO) {
		if l.lflag(unix.ECHOE) {
			w := 1
			if l.lflag(unix.ECHOCTL) && isCtl(c) {
				w = 2
			}
			for i := 0; i < w; i++ {
				l.output([]byte("\b \b"))
			}
		} else {
			l.echo(l.termios.Cc[verase])
		}
	}
	return true
}

// input processes keystrokes from the master (n_tty_receive_buf()) and
// returns how many bytes it took: it stops when the readable input is
// full, so the master's writer blocks.
func (l *ldisc) input(b []byte, sig signalFn) int {
	for i, c := range b {
		if l.readyLen+len(l.line) >= maxInput {
			return i
		}
		l.inputChar(c, sig)
	}
	return len(b)
}

func (l *ldisc) inputChar(c byte, sig signalFn) {
	t := &l.termios
	if l.iflag(unix.ISTRIP) {
		c &= 0x7f
	}
	if l.lnext {
		l.lnext = false
		l.literal(c)
		return
	}
	switch {
	case c == '\r' && l.iflag(unix.IGNCR):
		return
	case c == '\r' && l.iflag(unix.ICRNL):
		c = '\n'
	case c == '\n' && l.iflag(unix.INLCR):
		c = '\r'
	}
	if l.iflag(unix.IXON) {
		switch c {
		case t.Cc[vstop]:
			if c != 0 {
				l.stopped = true
				return
			}
		case t.Cc[vstart]:
			if c != 0 {
				l.stopped = false
				return
			}
		}
		if l.iflag(unix.IXANY) {
			l.stopped = false
		}
	}
	if l.lflag(unix.ISIG) && c != 0 {
		var s unix.Signal
		switch c {
		case t.Cc[vintr]:
			s = unix.SIGINT
		case t.Cc[vquit]:
			s = unix.SIGQUIT
		case t.Cc[vsusp]:
			s = unix.SIGTSTP
		}
		if s != 0 {
			if !l.lflag(unix.NOFLSH) {
				l.flushInput()
			}
			l.stopped = false
			if l.lflag(unix.ECHO) {
				l.echo(c)
			}
			sig(s)
			return
		}
	}
	if !l.lflag(unix.ICANON) {
		l.addRaw(c)
		return
	}
	if c != 0 {
		switch {
		case c == t.Cc[verase]:
			l.erase()
			return
		case c == t.Cc[vwerase] && l.lflag(unix.IEXTEN):
			for len(l.line) > 0 && (l.line[len(l.line)-1] == ' ' || l.line[len(l.line)-1] == '\t') {
				l.erase()
			}
			for len(l.line) > 0 && l.line[len(l.line)-1] != ' ' && l.line[len(l.line)-1] != '\t' {
				l.erase()
			}
			return
		case c == t.Cc[vkill]:
			if l.lflag(unix.ECHO) && l.lflag(unix.ECHOKE) {
				for l.erase() {
				}
				return
			}
			l.line = nil
			if l.lflag(unix.ECHO) {
				l.echo(c)
				if l.lflag(unix.ECHOK) {
					l.output([]byte{'\n'})
				}
			}
			return
		case c == t.Cc[vlnext] && l.lflag(unix.IEXTEN):
			l.lnext = true
			if l.lflag(unix.ECHO) && l.lflag(unix.ECHOCTL) {
				l.output([]byte("^\b"))
			}
			return
		case c == t.Cc[vreprint] && l.lflag(unix.IEXTEN):
			if l.lflag(unix.ECHO) {
				l.echo(c)
				l.output([]byte{'\n'})
				l.output(l.line)
			}
			return
		case c == t.Cc[veof]:
			l.push(true)
			return
		}
	}
	if c == '\n' || (c != 0 && (c == t.Cc[veol] || c == t.Cc[veol2])) {
		l.line = append(l.line, c)
		if l.lflag(unix.ECHO) || (c == '\n' && l.lflag(unix.ECHONL)) {
			l.output([]byte{c})
		}
		l.push(false)
		return
	}
	l.literal(c)
}

// literal adds c to the canonical line (or raw input) without
// interpreting it.
func (l *ldisc) literal(c byte) {
	if !l.lflag(unix.ICANON) {
		l.addRaw(c)
		return
	}
	if len(l.line) >= maxLine {
		return // the line is full: like n_tty, drop (a BEL is not echoed)
	}
	l.line = append(l.line, c)
	if l.lflag(unix.ECHO) {
		l.echo(c)
	}
}

func (l *ldisc) addRaw(c byte) {
	if n := len(l.ready); n > 0 && !l.ready[n-1].eof && l.ready[n-1].data != nil && !l.lflag(unix.ICANON) {
		l.ready[n-1].data = append(l.ready[n-1].data, c)
	} else {
		l.ready = append(l.ready, chunk{data: []byte{c}})
	}
	l.readyLen++
	if l.lflag(unix.ECHO) {
		l.echo(c)
	}
}

// readable reports whether a read would return now (data, or an empty
// line that reads as end of file).
func (l *ldisc) readable() bool {
	if l.lflag(unix.ICANON) {
		return len(l.ready) > 0
	}
	return l.readyLen > 0
}

// read copies input to dst: in canonical mode at most one line; returns
// (0, true) for end of file.
func (l *ldisc) read(dst []byte) (int, bool) {
	if l.lflag(unix.ICANON) {
		if len(l.ready) == 0 {
			return 0, false
		}
		ch := &l.ready[0]
		n := copy(dst, ch.data)
		ch.data = ch.data[n:]
		l.readyLen -= n
		if len(ch.data) == 0 {
			eof := ch.eof && n == 0
			l.ready = l.ready[1:]
			return n, eof
		}
		return n, false
	}
	n := 0
	for n < len(dst) && len(l.ready) > 0 {
		ch := &l.ready[0]
		m := copy(dst[n:], ch.data)
		ch.data = ch.data[m:]
		n += m
		l.readyLen -= m
		if len(ch.data) == 0 {
			l.ready = l.ready[1:]
		}
	}
	return n, false
}

// setTermios installs t; leaving canonical mode makes the partial line
// readable (n_tty_set_termios()).
func (l *ldisc) setTermios(t Termios) {
	wasCanon := l.lflag(unix.ICANON)
	l.termios = t
	if wasCanon && !l.lflag(unix.ICANON) && len(l.line) > 0 {
		l.ready = append(l.ready, chunk{data: l.line})
		l.readyLen += len(l.line)
		l.line = nil
	}
	if l.termios.Iflag&unix.IXON == 0 {
		l.stopped = false
	}
}
