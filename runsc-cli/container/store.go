package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
)

// Store is the --root directory: one subdirectory per container.
type Store struct {
	Root string
}

// dir returns the state directory of id.
func (s Store) dir(id string) string { return filepath.Join(s.Root, id) }

// lockDir opens and flock(2)s DIR/lock, blocking while another verb holds
// it. The lock dies with its holder, so a crashed CLI never leaves the
// container locked.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return f, nil
}

// Create makes the state directory of a new container and returns it
// locked, in status Creating (not yet saved). ErrExist if id is taken.
func (s Store) Create(id, bundle string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.Root, 0o711); err != nil {
		return nil, fmt.Errorf("state root %s: %w", s.Root, err)
	}
	dir := s.dir(id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrExist, id)
		}
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	l, err := lockDir(dir)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	return &Container{State: State{ID: id, Bundle: bundle, Status: Creating}, dir: dir, lock: l}, nil
}

// Load returns the container id with its lock held. ErrNotExist if there
// is none. A directory without a state file is a create that crashed
// before saving anything: it loads as stopped, so delete removes it.
func (s Store) Load(id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := s.dir(id)
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotExist, id)
	}
	l, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	c := &Container{dir: dir, lock: l}
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Stat(dir); serr != nil {
			// Deleted while we waited for the lock.
			l.Close()
			return nil, fmt.Errorf("%w: %s", ErrNotExist, id)
		}
		c.State = State{ID: id, Status: Stopped}
		return c, nil
	case err != nil:
		l.Close()
		return nil, fmt.Errorf("%w: %v", ErrStateCorrupt, err)
	}
	if err := json.Unmarshal(b, &c.State); err != nil {
		l.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrStateCorrupt, id, err)
	}
	if _, err := stateOf(c.Status); err != nil {
		l.Close()
		return nil, err
	}
	return c, nil
}

// List returns the IDs of the containers in the store, sorted.
func (s Store) List() ([]string, error) {
	ents, err := os.ReadDir(s.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && ValidateID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}
