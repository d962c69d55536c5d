package kernel

import (
	"path"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
	"pangolin/sentry/loader"
	"pangolin/sentry/mm"
)

// ExecFile is an executable opened for exec.
type ExecFile = loader.File

// execLocked replaces t's image (the core of execve(2), begin_new_exec()):
// a new address space with the program loaded, the other threads of the
// process killed, fresh registers, close-on-exec descriptors closed and
// caught signals reset to default. If loading fails the old image and the
// other threads are untouched.
//
// Preconditions: called on t's goroutine.
func (t *Task) execLocked(filename string, argv, envv []string) error {
	return t.execImage(filename, nil, argv, envv)
}

// execImage is execLocked with the first file already opened (execveat(2)
// resolves it relative to a directory descriptor, or is handed the file
// itself); first is nil to open filename through the kernel's Opener. The
// first file is consumed.
func (t *Task) execImage(filename string, first ExecFile, argv, envv []string) error {
	if len(argv) == 0 {
		// Linux substitutes an empty argv[0] (since 5.18).
		argv = []string{""}
	}
	newMM, err := t.k.newMM()
	if err != nil {
		if first != nil {
			first.Close()
		}
		return err
	}
	var newCreds *auth.Credentials
	var exe string
	newMM.SetOwnerPID(t.tg.pid)
	var mapVDSO func(*mm.MemoryManager) (uintptr, error)
	if t.k.vdso != nil {
		mapVDSO = t.k.mapVDSO
	}
	res, err := loader.Load(loader.Args{
		MapVDSO: mapVDSO,
		Open: func(p string) (loader.File, error) {
			f := first
			first = nil
			if f == nil {
				var err error
				if f, err = t.k.Opener(t, p); err != nil {
					return nil, err
				}
			}
			// /proc/PID/exe is the absolute path of the file finally
			// loaded (the ELF, not a script), whatever name execve
			// was given.
			exe = p
			if fd, ok := f.(*vfs.FileDescription); ok {
				exe = fd.PathName(t.fsc.Root())
			}
			return f, nil
		},
		Filename:   filename,
		Argv:       argv,
		Envv:       envv,
		MM:         newMM,
		StackLimit: t.tg.limits.Get(3 /* RLIMIT_STACK */).Cur,
		UID:        t.creds.RealUID,
		EUID:       t.creds.EffectiveUID,
		GID:        t.creds.RealGID,
		EGID:       t.creds.EffectiveGID,
		BinaryCreds: func(f loader.File) (uid, euid, gid, egid uint32, secure bool) {
			newCreds, secure = t.binaryCreds(f)
			return newCreds.RealUID, newCreds.EffectiveUID, newCreds.RealGID, newCreds.EffectiveGID, secure
		},
	})
	if err != nil {
		newMM.DecUsers()
		return err
	}
	// The point of no return (begin_new_exec()): the other threads die.
	if err := t.deThread(); err != nil {
		newMM.DecUsers()
		return err
	}
	if newCreds != nil {
		t.SetCredentials(newCreds)
	}
	old := t.mm
	t.mm = newMM
	t.exe = exe
	if old != nil {
		old.DecUsers()
	}
	t.regs.Reset(res.Entry, res.Stack)
	t.clearChildTID = 0
	t.robustList = 0
	t.altStack = AltStack{Flags: ssDisable}
	t.tg.deleteTimers()
	if t.fdTable != nil {
		t.fdTable.CloseOnExec()
	}
	tg := t.tg
	tg.mu.Lock()
	for i := range tg.sigactions {
		if tg.sigactions[i].Handler != SigIgn {
			tg.sigactions[i] = SigAction{}
		}
	}
	tg.mu.Unlock()
	base := path.Base(filename)
	if len(base) > 15 {
		base = base[:15]
	}
	t.name = base
	t.k.mu.Lock()
	t.tg.execed = true
	t.k.mu.Unlock()
	t.releaseVfork()
	return nil
}

// Execve implements the sentry side of execve(2) for the syscall layer.
func (t *Task) Execve(filename string, argv, envv []string) error {
	return t.execLocked(filename, argv, envv)
}

// ExecveFile implements execveat(2): f is the opened program, shown as
// filename (/proc/PID/exe, AT_EXECFN). It consumes f.
func (t *Task) ExecveFile(f ExecFile, filename string, argv, envv []string) error {
	return t.execImage(filename, f, argv, envv)
}

// Exe returns the path of the task's executable (for /proc/PID/exe).
func (t *Task) Exe() string { return t.exe }

// deThread kills every other thread of t's process and waits for them to
// exit (de_thread()); if t is not the leader it then takes over the
// leader's TID, so that the process keeps its PID. It fails with
// ERESTARTNOINTR if a group exit or another exec won the race (the caller
// then exits on its way out).
func (t *Task) deThread() error {
	k, tg := t.k, t.tg
	tg.mu.Lock()
	if tg.exiting || tg.execer != nil {
		tg.mu.Unlock()
		return ERestartNoIntr
	}
	if tg.tasks == 1 {
		tg.mu.Unlock()
		return nil
	}
	tg.execer = t
	tg.mu.Unlock()
	k.interruptGroup(tg)
	for {
		tg.mu.Lock()
		n, exiting := tg.tasks, tg.exiting
		tg.mu.Unlock()
		if n == 1 {
			break
		}
		if exiting {
			// A fatal signal arrived while waiting: die with the
			// others.
			tg.mu.Lock()
			tg.execer = nil
			tg.mu.Unlock()
			return ERestartNoIntr
		}
		select {
		case <-tg.execDone:
		case <-t.interruptCh:
		}
	}
	k.mu.Lock()
	tg.mu.Lock()
	tg.execer = nil
	if tg.leader != t {
		// exchange_tid(): the surviving thread becomes the leader
		// with the process's ID; the old leader is gone already.
		delete(k.tasks, t.tid)
		t.tid = tg.pid
		k.tasks[t.tid] = t
		tg.leader = t
	}
	tg.mu.Unlock()
	k.mu.Unlock()
	return nil
}

// binaryCreds returns the credentials for running binary f (see
// execCreds). Files that cannot report their mode and owner (only
// test doubles) run with unchanged IDs.
func (t *Task) binaryCreds(f loader.File) (*auth.Credentials, bool) {
	fd, ok := f.(*vfs.FileDescription)
	if !ok {
		return t.execCreds(0, 0, 0, true)
	}
	st, err := fd.Stat()
	if err != nil {
		return t.execCreds(0, 0, 0, true)
	}
	nosuid := true
	if vd := fd.VirtualDentry(); vd.Mount != nil {
		nosuid = vd.Mount.Flags().NoSuid
	}
	return t.execCreds(st.Mode, st.UID, st.GID, nosuid)
}
