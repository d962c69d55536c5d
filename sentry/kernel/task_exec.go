package kernel

import (
	"path"

	"pangolin/sentry/loader"
)

// ExecFile is an executable opened for exec.
type ExecFile = loader.File

// execLocked replaces t's image (the core of execve(2), begin_new_exec()):
// a new address space with the program loaded, fresh registers,
// close-on-exec descriptors closed and caught signals reset to default.
// On failure the old image is untouched.
//
// Preconditions: t is the only thread of its group; called on t's goroutine.
func (t *Task) execLocked(filename string, argv, envv []string) error {
	if len(argv) == 0 {
		// Linux substitutes an empty argv[0] (since 5.18).
		argv = []string{""}
	}
	newMM, err := t.k.newMM()
	if err != nil {
		return err
	}
	newMM.SetOwnerPID(t.tg.pid)
	res, err := loader.Load(loader.Args{
		Open: func(p string) (loader.File, error) {
			return t.k.Opener(t, p)
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
	})
	if err != nil {
		newMM.Release()
		return err
	}
	old := t.mm
	t.mm = newMM
	t.exe = res.Filename
	if old != nil {
		old.Release()
	}
	t.regs.Reset(res.Entry, res.Stack)
	t.clearChildTID = 0
	t.robustList = 0
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

// Exe returns the path of the task's executable (for /proc/PID/exe).
func (t *Task) Exe() string { return t.exe }
