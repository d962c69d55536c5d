package linux

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/ipc"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_SEMGET:     sup("semget", Semget),
		unix.SYS_SEMOP:      sup("semop", Semop),
		unix.SYS_SEMTIMEDOP: sup("semtimedop", Semtimedop),
		unix.SYS_SEMCTL:     sup("semctl", Semctl),
	})
}

// Semget implements Linux syscall semget(2).
func Semget(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, err := t.Kernel().IPCNamespace().SemGet(t, args[0].Int(), args[1].Int(), args[2].Int())
	return uintptr(id), err
}

// Semop implements Linux syscall semop(2).
func Semop(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, semtimedop(t, args[0].Int(), args[1].Pointer(), args[2].Uint64(), nil)
}

// Semtimedop implements Linux syscall semtimedop(2): as semop, giving up
// with EAGAIN after the relative timeout (NULL: none).
func Semtimedop(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	var ts *[2]int64
	if p := args[3].Pointer(); p != 0 {
		var b [16]byte
		if err := t.CopyInBytes(p, b[:]); err != nil {
			return 0, err
		}
		ts = &[2]int64{int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))}
	}
	return 0, semtimedop(t, args[0].Int(), args[1].Pointer(), args[2].Uint64(), ts)
}

// semtimedop is do_semtimedop()'s argument handling: nsops in [1, SEMOPM]
// (E2BIG above), the operations copied in, the timeout validated.
func semtimedop(t *kernel.Task, id int32, addr uintptr, nsops uint64, ts *[2]int64) error {
	if nsops < 1 || id < 0 {
		return unix.EINVAL
	}
	if nsops > ipc.SemOPM {
		return unix.E2BIG
	}
	b := make([]byte, 6*nsops)
	if err := t.CopyInBytes(addr, b); err != nil {
		return err
	}
	ops := make([]ipc.Sembuf, nsops)
	for i := range ops {
		ops[i] = ipc.Sembuf{
			Num: binary.LittleEndian.Uint16(b[6*i:]),
			Op:  int16(binary.LittleEndian.Uint16(b[6*i+2:])),
			Flg: int16(binary.LittleEndian.Uint16(b[6*i+4:])),
		}
	}
	var timeout *time.Duration
	if ts != nil {
		if ts[0] < 0 || ts[1] < 0 || ts[1] >= 1e9 {
			return unix.EINVAL
		}
		d := time.Duration(ts[1])
		if ts[0] > int64((1<<63-1)/time.Second)-1 {
			d = 1<<63 - 1
		} else {
			d += time.Duration(ts[0]) * time.Second
		}
		timeout = &d
	}
	return t.Kernel().IPCNamespace().SemOp(t, t.ThreadGroup().PID(), id, ops, timeout)
}

// Semctl implements Linux syscall semctl(2) (ksys_semctl()). The fourth
// argument is union semun passed by value: an int for SETVAL, else a
// pointer.
func Semctl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, num, cmd, arg := args[0].Int(), args[1].Int(), args[2].Int(), args[3].Pointer()
	if id < 0 {
		return 0, unix.EINVAL
	}
	ns := t.Kernel().IPCNamespace()
	pid := t.ThreadGroup().PID()
	switch cmd {
	case ipc.IPCInfo, ipc.SemInfo:
		b, ret := ns.SemInfo(cmd)
		if err := t.CopyOutBytes(arg, b); err != nil {
			return 0, err
		}
		return uintptr(ret), nil
	case ipc.IPCStat, ipc.SemStat, ipc.SemStatAny:
		ret, _, ds, err := ns.SemCtl(t, pid, id, num, cmd, ipc.SemCtlArgs{})
		if err != nil {
			return 0, err
		}
		return uintptr(ret), t.CopyOutBytes(arg, ds.Encode())
	case ipc.GetAll:
		_, vals, _, err := ns.SemCtl(t, pid, id, num, cmd, ipc.SemCtlArgs{})
		if err != nil {
			return 0, err
		}
		b := make([]byte, 2*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint16(b[2*i:], v)
		}
		return 0, t.CopyOutBytes(arg, b)
	case ipc.SetAll:
		n, err := ns.Nsems(id)
		if err != nil {
			return 0, err
		}
		b := make([]byte, 2*n)
		if err := t.CopyInBytes(arg, b); err != nil {
			return 0, err
		}
		vals := make([]uint16, n)
		for i := range vals {
			vals[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		_, _, _, err = ns.SemCtl(t, pid, id, num, cmd, ipc.SemCtlArgs{Vals: vals})
		return 0, err
	case ipc.GetVal, ipc.GetPID, ipc.GetNcnt, ipc.GetZcnt, ipc.IPCRmid:
		ret, _, _, err := ns.SemCtl(t, pid, id, num, cmd, ipc.SemCtlArgs{})
		return uintptr(ret), err
	case ipc.SetVal:
		_, _, _, err := ns.SemCtl(t, pid, id, num, cmd, ipc.SemCtlArgs{Val: int32(arg)})
		return 0, err
	case ipc.IPCSet:
		b := make([]byte, ipc.SemidDSSize)
		if err := t.CopyInBytes(arg, b); err != nil {
			return 0, err
		}
		_, _, _, err := ns.SemCtl(t, pid, id, num, cmd, ipc.SemCtlArgs{Set: ipc.DecodeSemidDS(b)})
		return 0, err
	}
	return 0, unix.EINVAL
}
