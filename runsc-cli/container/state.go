// Package container is the runtime's view of one OCI container: its state
// on disk under the --root directory and the lifecycle state machine of
// the OCI runtime specification (creating → created → running ⇄ paused →
// stopped), encoded as one type per state in the manner of runc's
// libcontainer. Every verb of the CLI loads a Container under its lock,
// asks the current state for a transition, does the work and saves.
//
// A container's directory holds:
//
//	state.json    the persisted State (written atomically: temp + rename)
//	lock          flock(2)ed by every verb for its whole run
//	sandbox.sock  the sandbox's control socket (see package control)
//
// Lock order: the container lock (Store.Lock) is the only lock; a verb
// holds at most one container's.
package container

import (
	"errors"
	"fmt"
)

// Status is an OCI container status (runtime-spec runtime.md "State").
type Status string

// The OCI statuses. Creating is persisted only between the sandbox's
// start and the end of create; a crashed create leaves a container that
// delete removes.
const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Paused   Status = "paused"
	Stopped  Status = "stopped"
)

// Errors every verb may return, wrapped with context; the CLI tests them
// with errors.Is.
var (
	ErrNotExist     = errors.New("container does not exist")
	ErrExist        = errors.New("container already exists")
	ErrInvalidID    = errors.New("invalid container id")
	ErrNotRunning   = errors.New("container is not running")
	ErrNotStopped   = errors.New("container is not stopped")
	ErrNotPaused    = errors.New("container is not paused")
	ErrStateCorrupt = errors.New("container state is unreadable")
)

// TransitionError is an illegal move of the state machine, such as start
// on a running container.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot move container from %s to %s", e.From, e.To)
}

// Is makes errors.Is(err, ErrNotRunning) etc. true for the transitions
// that mean it, so callers need not match both forms.
func (e *TransitionError) Is(target error) bool {
	switch target {
	case ErrNotRunning:
		return e.From == Stopped || e.From == Created && e.To == Paused
	case ErrNotPaused:
		return e.To == Running && e.From != Created
	}
	return false
}

// state is one node of the lifecycle state machine. transition checks a
// move and returns the state to persist (nil: no change); destroyable
// reports whether delete without --force may remove the container.
type state interface {
	status() Status
	transition(to Status) error
	destroyable() bool
}

type creatingState struct{}
type createdState struct{}
type runningState struct{}
type pausedState struct{}
type stoppedState struct{}

func (creatingState) status() Status { return Creating }
func (createdState) status() Status  { return Created }
func (runningState) status() Status  { return Running }
func (pausedState) status() Status   { return Paused }
func (stoppedState) status() Status  { return Stopped }

func (creatingState) transition(to Status) error {
	switch to {
	case Created, Stopped:
		return nil
	}
	return &TransitionError{Creating, to}
}

func (createdState) transition(to Status) error {
	switch to {
	case Running, Stopped:
		return nil
	}
	return &TransitionError{Created, to}
}

func (runningState) transition(to Status) error {
	switch to {
	case Paused, Stopped:
		return nil
	}
	return &TransitionError{Running, to}
}

func (pausedState) transition(to Status) error {
	switch to {
	case Running, Stopped:
		return nil
	}
	return &TransitionError{Paused, to}
}

func (stoppedState) transition(to Status) error {
	return &TransitionError{Stopped, to}
}

// A created container is destroyed by delete without --force, as runc
// does: its app never ran. Creating is a crashed create.
func (creatingState) destroyable() bool { return true }
func (createdState) destroyable() bool  { return true }
func (runningState) destroyable() bool  { return false }
func (pausedState) destroyable() bool   { return false }
func (stoppedState) destroyable() bool  { return true }

// stateOf returns the state machine node for s.
func stateOf(s Status) (state, error) {
	switch s {
	case Creating:
		return creatingState{}, nil
	case Created:
		return createdState{}, nil
	case Running:
		return runningState{}, nil
	case Paused:
		return pausedState{}, nil
	case Stopped:
		return stoppedState{}, nil
	}
	return nil, fmt.Errorf("%w: unknown status %q", ErrStateCorrupt, s)
}
