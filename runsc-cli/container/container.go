package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Process identifies a host process across PID reuse: a PID is the same
// process only while its start time (field 22 of /proc/PID/stat) matches.
type Process struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"start_time"`
}

// State is what state.json holds.
type State struct {
	ID          string            `json:"id"`
	Bundle      string            `json:"bundle"`
	Status      Status            `json:"status"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Sandbox is the sentry process: the container's init as the host
	// sees it (its exit status is the app's). Gofer serves the files.
	Sandbox Process `json:"sandbox"`
	Gofer   Process `json:"gofer"`
	// Cgroups are the host cgroup directories the sandbox was put in,
	// removed by delete.
	Cgroups []string `json:"cgroups,omitempty"`
	// Hooks is the spec's hooks object, kept from create for start
	// (startContainer, poststart) and delete (poststop).
	Hooks json.RawMessage `json:"hooks,omitempty"`
	// Rootfs is the root filesystem's host path.
	Rootfs string `json:"rootfs,omitempty"`
}

// Container is one container loaded from the store, with its lock held.
// Release must be called when the verb is done with it.
type Container struct {
	State
	dir  string
	lock *os.File
}

// idPattern is the container IDs we accept: runc's rule (letters, digits
// and _ + - .), which also keeps IDs safe as path components.
var idPattern = regexp.MustCompile(`^[\w+-][\w+.-]*$`)

// ValidateID returns ErrInvalidID for IDs that are not path-safe.
func ValidateID(id string) error {
	if id == "" || len(id) > 1024 || !idPattern.MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("%w %q (use letters, digits, '_', '+', '-' and '.')", ErrInvalidID, id)
	}
	return nil
}

// Dir returns the container's state directory.
func (c *Container) Dir() string { return c.dir }

// SocketPath returns the path of the sandbox's control socket.
func (c *Container) SocketPath() string { return filepath.Join(c.dir, "sandbox.sock") }

// Release drops the lock.
func (c *Container) Release() {
	if c.lock != nil {
		c.lock.Close() // closing the descriptor releases the flock
		c.lock = nil
	}
}

// Save writes the state atomically: a reader (or a crash) sees the old or
// the new file, never half of one.
func (c *Container) Save() error {
	b, err := json.MarshalIndent(&c.State, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, ".state-*")
	if err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	if _, err := tmp.Write(b); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(c.dir, "state.json"))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// CurrentStatus is the status with liveness applied: a container whose
// sandbox process is gone (or is a zombie nobody reaped yet) is stopped
// whatever was saved, which is how state survives a crashed CLI or sandbox.
func (c *Container) CurrentStatus() Status {
	switch c.Status {
	case Created, Running, Paused, Creating:
		if !c.Sandbox.Alive() {
			return Stopped
		}
	}
	return c.Status
}

// Transition moves the container to the status to after checking the
// move against the state machine (a *TransitionError if illegal). It does
// not save.
func (c *Container) Transition(to Status) error {
	st, err := stateOf(c.CurrentStatus())
	if err != nil {
		return err
	}
	if err := st.transition(to); err != nil {
		return err
	}
	c.Status = to
	return nil
}

// CanDestroy reports whether delete without --force may remove the
// container (created or stopped, as runc).
func (c *Container) CanDestroy() (bool, Status) {
	s := c.CurrentStatus()
	st, err := stateOf(s)
	if err != nil {
		return true, s
	}
	return st.destroyable(), s
}

// Remove deletes the state directory. The caller has stopped the sandbox.
func (c *Container) Remove() error {
	return os.RemoveAll(c.dir)
}

// ProcessOf returns the identity of the live process pid.
func ProcessOf(pid int) (Process, error) {
	st, err := startTime(pid)
	if err != nil {
		return Process{}, err
	}
	return Process{PID: pid, StartTime: st}, nil
}

// Alive reports whether the process still runs: it exists, is the same
// process (start time), and is not a zombie.
func (p Process) Alive() bool {
	if p.PID <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
	if err != nil {
		return false
	}
	f, err := statFields(string(b))
	if err != nil || f.state == "Z" || f.state == "X" {
		return false
	}
	return p.StartTime == 0 || f.start == p.StartTime
}

// Signal sends sig to the process if it is still the same process.
func (p Process) Signal(sig unix.Signal) error {
	if !p.Alive() {
		return unix.ESRCH
	}
	return unix.Kill(p.PID, sig)
}

// WaitGone polls until the process is gone or d has passed. The sandbox
// is not our child (it outlives create), so there is nothing to wait(2) on.
func (p Process) WaitGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for p.Alive() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

type procStat struct {
	state string
	start uint64
}

// statFields parses /proc/PID/stat: "pid (comm) state ppid ..."; comm may
// hold spaces and parentheses, so split after the last ')'.
func statFields(s string) (procStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return procStat{}, errors.New("malformed stat")
	}
	var st uint64
	if _, err := fmt.Sscan(f[19], &st); err != nil {
		return procStat{}, err
	}
	return procStat{state: f[0], start: st}, nil
}

func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f, err := statFields(string(b))
	if err != nil {
		return 0, err
	}
	return f.start, nil
}
