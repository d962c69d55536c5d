package socket

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

// Control message layout on amd64 (struct cmsghdr: size_t len; int level;
// int type; then data aligned to 8).
const (
	CmsgHdrLen = 16
	cmsgAlign  = 8
	ucredLen   = 12
)

// SCMMaxFD is SCM_MAX_FD: at most this many files in one send.
const SCMMaxFD = 253

// CmsgAlign is CMSG_ALIGN.
func CmsgAlign(n int) int { return (n + cmsgAlign - 1) &^ (cmsgAlign - 1) }

// CmsgLen is CMSG_LEN: a header and n bytes of data.
func CmsgLen(n int) int { return CmsgHdrLen + n }

// CmsgSpace is CMSG_SPACE: a header and n bytes of data, padded.
func CmsgSpace(n int) int { return CmsgHdrLen + CmsgAlign(n) }

// ParseControl validates and parses sendmsg's control data (__scm_send()):
// every header must be well-formed (EINVAL); other levels than SOL_SOCKET
// are skipped; SCM_RIGHTS (AF_UNIX only) takes references to at most
// SCM_MAX_FD files in total (EINVAL beyond, EBADF for a bad descriptor);
// SCM_CREDENTIALS must be exactly a struct ucred the sender could claim
// (scm_check_creds(): EPERM, ESRCH for a PID that does not exist). The
// caller releases the result; empty control data gives nil.
func ParseControl(ctx Context, buf []byte, family int) (*ControlMessages, error) {
	if len(buf) == 0 {
		return nil, nil
	}
	cm := &ControlMessages{}
	for off := 0; len(buf)-off >= CmsgHdrLen; {
		clen := le.Uint64(buf[off:])
		level := int32(le.Uint32(buf[off+8:]))
		typ := int32(le.Uint32(buf[off+12:]))
		if clen < CmsgHdrLen || clen > uint64(len(buf)-off) {
			cm.Release()
			return nil, unix.EINVAL
		}
		data := buf[off+CmsgHdrLen : off+int(clen)]
		if level == unix.SOL_SOCKET {
			var err error
			switch typ {
			case unix.SCM_RIGHTS:
				err = cm.addRights(data, family, ctx.GetFile)
			case unix.SCM_CREDENTIALS:
				err = cm.setCreds(ctx, data)
			default:
				err = unix.EINVAL
			}
			if err != nil {
				cm.Release()
				return nil, err
			}
		}
		// CMSG_NXTHDR: the next header must fit entirely.
		off += CmsgAlign(int(clen))
		if off+CmsgHdrLen > len(buf) {
			break
		}
	}
	return cm, nil
}

// addRights is scm_fp_copy().
func (cm *ControlMessages) addRights(data []byte, family int, getFile func(int32) (*vfs.FileDescription, error)) error {
	if family != unix.AF_UNIX {
		return unix.EINVAL
	}
	n := len(data) / 4
	if n == 0 {
		return nil
	}
	if n > SCMMaxFD || len(cm.Rights)+n > SCMMaxFD {
		return unix.EINVAL
	}
	for i := 0; i < n; i++ {
		fd := int32(le.Uint32(data[4*i:]))
		if fd < 0 {
			return unix.EBADF
		}
		f, err := getFile(fd)
		if err != nil {
			return unix.EBADF
		}
		cm.Rights = append(cm.Rights, f)
	}
	return nil
}

// setCreds is the SCM_CREDENTIALS case of __scm_send() with
// scm_check_creds(): the sender may claim its own PID (any with
// CAP_SYS_ADMIN) and any of its real, effective or saved IDs (any with
// CAP_SETUID/CAP_SETGID); -1 is never a valid ID.
func (cm *ControlMessages) setCreds(ctx Context, data []byte) error {
	if len(data) != ucredLen {
		return unix.EINVAL
	}
	c := Credentials{PID: int32(le.Uint32(data)), UID: le.Uint32(data[4:]), GID: le.Uint32(data[8:])}
	creds := ctx.Credentials()
	if c.UID == auth.NoID || c.GID == auth.NoID {
		return unix.EINVAL
	}
	pidOK := c.PID == ctx.PID() || creds.HasCapability(auth.CapSysAdmin)
	uidOK := c.UID == creds.RealUID || c.UID == creds.EffectiveUID || c.UID == creds.SavedUID || creds.HasCapability(auth.CapSetuid)
	gidOK := c.GID == creds.RealGID || c.GID == creds.EffectiveGID || c.GID == creds.SavedGID || creds.HasCapability(auth.CapSetgid)
	if !pidOK || !uidOK || !gidOK {
		return unix.EPERM
	}
	if c.PID != ctx.PID() && !ctx.PIDExists(c.PID) {
		return unix.ESRCH
	}
	cm.Creds = &c
	return nil
}

// InstallFunc installs a received file as a new descriptor (with
// close-on-exec if cloexec) and returns it, or fails (EMFILE). The
// descriptor table takes its own reference.
type InstallFunc func(f *vfs.FileDescription, cloexec bool) (int32, error)

// ControlWrite is one piece of received control data, at Off bytes from
// msg_control.
type ControlWrite struct {
	Off  int
	Data []byte
}

// ControlOut is the control data one receive hands to the app.
type ControlOut struct {
	// Writes are what to copy to msg_control; padding between messages
	// is left untouched, as Linux leaves it.
	Writes []ControlWrite
	// Len is the new msg_controllen: the bytes consumed.
	Len int
	// Truncated means something did not fit (MSG_CTRUNC).
	Truncated bool
	// Installed are the descriptors made for SCM_RIGHTS.
	Installed []int32
}

// RecvControl builds recvmsg's control data for a buffer of the app's
// msg_controllen bytes (scm_recv_unix(), put_cmsg(), scm_detach_fds()):
// SCM_CREDENTIALS if r.Creds is set, the protocol's messages (r.Cmsgs),
// then SCM_RIGHTS for as many files as
// fit and can be installed. Files not installed are released. Without a
// buffer (msg_control NULL, hasBuf false) everything is lost.
func RecvControl(r *RecvResult, hasBuf bool, controlLen int, cloexec bool, install InstallFunc) ControlOut {
	defer r.ReleaseRights()
	var out ControlOut
	if !hasBuf {
		out.Truncated = r.Creds != nil || len(r.Rights) > 0 || len(r.Cmsgs) > 0
		return out
	}
	room := controlLen
	if r.Creds != nil {
		d := make([]byte, ucredLen)
		le.PutUint32(d, uint32(r.Creds.PID))
		le.PutUint32(d[4:], r.Creds.UID)
		le.PutUint32(d[8:], r.Creds.GID)
		room = out.put(room, unix.SOL_SOCKET, unix.SCM_CREDENTIALS, d)
	}
	for _, c := range r.Cmsgs {
		room = out.put(room, c.Level, c.Type, c.Data)
	}
	if n := len(r.Rights); n > 0 {
		fdmax := 0
		if room > CmsgHdrLen {
			fdmax = min((room-CmsgHdrLen)/4, n)
		}
		d := make([]byte, 0, 4*fdmax)
		i := 0
		for ; i < fdmax; i++ {
			fd, err := install(r.Rights[i], cloexec)
			if err != nil {
				break
			}
			out.Installed = append(out.Installed, fd)
			d = le.AppendUint32(d, uint32(fd))
		}
		if i > 0 {
			out.put(room, unix.SOL_SOCKET, unix.SCM_RIGHTS, d)
		}
		if i < n {
			out.Truncated = true
		}
		// The installed files now belong to the table; the rest are
		// dropped by the deferred release.
		for _, f := range r.Rights[:i] {
			f.DecRef()
		}
		r.Rights = r.Rights[i:]
	}
	return out
}

// put appends one control message at the current position (put_cmsg()):
// without room for a header nothing is written; data that does not fit
// is cut off, with cmsg_len saying how much was written. It returns the
// room left.
func (o *ControlOut) put(room int, level, typ int32, data []byte) int {
	if room < CmsgHdrLen {
		o.Truncated = true
		return room
	}
	clen := CmsgLen(len(data))
	if room < clen {
		clen, o.Truncated = room, true
	}
	b := make([]byte, clen)
	le.PutUint64(b, uint64(clen))
	le.PutUint32(b[8:], uint32(level))
	le.PutUint32(b[12:], uint32(typ))
	copy(b[CmsgHdrLen:], data)
	o.Writes = append(o.Writes, ControlWrite{Off: o.Len, Data: b})
	sp := min(CmsgSpace(len(data)), room)
	o.Len += sp
	return room - sp
}
