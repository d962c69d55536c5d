package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/ipc"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_MSGGET: sup("msgget", Msgget),
		unix.SYS_MSGSND: sup("msgsnd", Msgsnd),
		unix.SYS_MSGRCV: sup("msgrcv", Msgrcv),
		unix.SYS_MSGCTL: sup("msgctl", Msgctl),
	})
}

// Msgget implements Linux syscall msgget(2).
func Msgget(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, err := t.Kernel().IPCNamespace().MsgGet(t, args[0].Int(), args[1].Int())
	return uintptr(id), err
}

// Msgsnd implements Linux syscall msgsnd(2) (ksys_msgsnd(), do_msgsnd()):
// struct msgbuf is a long mtype followed by msgsz bytes of text.
func Msgsnd(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, addr, size, flg := args[0].Int(), args[1].Pointer(), args[2].Int64(), args[3].Int()
	var tb [8]byte
	if err := t.CopyInBytes(addr, tb[:]); err != nil {
		return 0, err
	}
	typ := int64(binary.LittleEndian.Uint64(tb[:]))
	if size > ipc.MsgMax || size < 0 || id < 0 {
		return 0, unix.EINVAL
	}
	if typ < 1 {
		return 0, unix.EINVAL
	}
	text := make([]byte, size)
	if err := t.CopyInBytes(addr+8, text); err != nil {
		return 0, err
	}
	return 0, t.Kernel().IPCNamespace().MsgSnd(t, t.ThreadGroup().PID(), id, &ipc.Message{Type: typ, Text: text}, flg)
}

// Msgrcv implements Linux syscall msgrcv(2) (do_msgrcv(), do_msg_fill()):
// it stores mtype and at most msgsz bytes of text and returns their
// number. A message taken off the queue is lost if the copy faults.
func Msgrcv(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, addr, size, typ, flg := args[0].Int(), args[1].Pointer(), args[2].Int64(), args[3].Int64(), args[4].Int()
	m, err := t.Kernel().IPCNamespace().MsgRcv(t, t.ThreadGroup().PID(), id, size, typ, flg)
	if err != nil {
		return 0, err
	}
	var tb [8]byte
	binary.LittleEndian.PutUint64(tb[:], uint64(m.Type))
	if err := t.CopyOutBytes(addr, tb[:]); err != nil {
		return 0, err
	}
	n := min(int64(len(m.Text)), size)
	if err := t.CopyOutBytes(addr+8, m.Text[:n]); err != nil {
		return 0, err
	}
	return uintptr(n), nil
}

// Msgctl implements Linux syscall msgctl(2) (ksys_msgctl()).
func Msgctl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, cmd, buf := args[0].Int(), args[1].Int(), args[2].Pointer()
	if id < 0 || cmd < 0 {
		return 0, unix.EINVAL
	}
	ns := t.Kernel().IPCNamespace()
	switch cmd {
	case ipc.IPCInfo, ipc.MsgInfo:
		b, ret := ns.MsgInfo(cmd)
		if err := t.CopyOutBytes(buf, b); err != nil {
			return 0, err
		}
		return uintptr(ret), nil
	case ipc.IPCStat, ipc.MsgStat, ipc.MsgStatAny:
		ret, ds, err := ns.MsgCtl(t, id, cmd, nil)
		if err != nil {
			return 0, err
		}
		return uintptr(ret), t.CopyOutBytes(buf, ds.Encode())
	case ipc.IPCSet:
		b := make([]byte, ipc.MsqidDSSize)
		if err := t.CopyInBytes(buf, b); err != nil {
			return 0, err
		}
		ds := ipc.DecodeMsqidDS(b)
		_, _, err := ns.MsgCtl(t, id, cmd, &ds)
		return 0, err
	case ipc.IPCRmid:
		_, _, err := ns.MsgCtl(t, id, cmd, nil)
		return 0, err
	}
	return 0, unix.EINVAL
}
