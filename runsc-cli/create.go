package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pangolin/runsc-cli/cgroup"
	"pangolin/runsc-cli/container"
	"pangolin/runsc-cli/control"
	"pangolin/runsc-cli/specconv"
)

func init() {
	register(&command{
		name:    "create",
		summary: "create a container (its process waits for start)",
		run:     runCreate,
		synopsis: `pangolin create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] ID

Creates the container ID from the bundle's config.json: starts its sandbox
and builds its filesystem, then returns. 'pangolin start ID' runs the
process. With process.terminal, --console-socket is required: the
terminal's master is sent there (SCM_RIGHTS).

Example:
  pangolin create --bundle /srv/bundle --pid-file /run/c1.pid c1`,
	})
}

// createOpts are create's (and run's) flags.
type createOpts struct {
	bundle        string
	pidFile       string
	consoleSocket string
	noPivot       bool
	noNewKeyring  bool
	preserveFDs   int
}

func (o *createOpts) flags(fs interface {
	StringVarP(*string, string, string, string, string)
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
	IntVar(*int, string, int, string)
}) {
	fs.StringVarP(&o.bundle, "bundle", "b", "", "bundle directory (default: the current directory)")
	fs.StringVar(&o.pidFile, "pid-file", "", "file to write the sandbox process's PID to")
	fs.StringVar(&o.consoleSocket, "console-socket", "", "AF_UNIX socket to send the terminal's master to")
	fs.BoolVar(&o.noPivot, "no-pivot", false, "accepted for compatibility (there is no pivot_root into the app's root)")
	fs.BoolVar(&o.noNewKeyring, "no-new-keyring", false, "accepted for compatibility (the sandbox has no host keyring)")
	fs.IntVar(&o.preserveFDs, "preserve-fds", 0, "pass N additional descriptors (3 onwards) to the container (not supported; must be 0)")
}

func runCreate(args []string) int {
	var o createOpts
	fs := newFlags("create")
	o.flags(fs)
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	id, ok := needID(fs, "create")
	if !ok {
		return 1
	}
	c, procs, err := createContainer(id, o, [3]*os.File{os.Stdin, os.Stdout, os.Stderr}, nil)
	if err == nil {
		// The sandbox processes outlive this CLI.
		procs.release()
		c.Release()
	}
	return reportCreateError(err)
}

func reportCreateError(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return errorf(ee.code, "%v", ee.err)
	}
	return errorf(1, "%v", err)
}

// createContainer creates container id. stdio are the container's streams
// unless the process has a terminal; then the terminal's master goes to
// o.consoleSocket, or to ptyMaster for run's own proxy.
func createContainer(id string, o createOpts, stdio [3]*os.File, ptyMaster **os.File) (c *container.Container, procs *sandboxProcs, err error) {
	if o.preserveFDs != 0 {
		return nil, nil, fmt.Errorf("--preserve-fds is not supported")
	}
	if err := container.ValidateID(id); err != nil {
		return nil, nil, err
	}
	bundle := o.bundle
	if bundle == "" {
		bundle = "."
	}
	bundle, err = filepath.Abs(bundle)
	if err != nil {
		return nil, nil, err
	}
	spec, err := specconv.LoadSpec(bundle)
	if err != nil {
		return nil, nil, err
	}
	rootfs, err := specconv.RootPath(spec, bundle)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := specconv.Convert(id, spec, func(w string) { warnf("%s", w) })
	if err != nil {
		return nil, nil, err
	}
	if global.overlay {
		return nil, nil, fmt.Errorf("--overlay is not supported for OCI containers yet (use root.readonly or a tmpfs)")
	}
	if cfg.Process.Terminal && o.consoleSocket == "" && ptyMaster == nil {
		return nil, nil, fmt.Errorf("process.terminal is set: --console-socket is required (the terminal's master is sent there)")
	}
	if !cfg.Process.Terminal && o.consoleSocket != "" {
		return nil, nil, fmt.Errorf("--console-socket given but process.terminal is false")
	}

	// ct, not the named result c: a return statement clears c before the
	// deferred cleanup runs.
	ct, err := store().Create(id, bundle)
	if err != nil {
		if errors.Is(err, container.ErrExist) {
			return nil, nil, fmt.Errorf("container with id %s exists already", id)
		}
		return nil, nil, err
	}
	var cg *cgroup.Cgroup
	var sp *sandboxProcs // local for the same reason as ct
	defer func() {
		if err != nil {
			if sp != nil {
				sp.kill()
			}
			if cg != nil {
				cg.Destroy()
			}
			ct.Remove()
			ct.Release()
		}
	}()
	c = ct
	c.Created = time.Now().UTC()
	c.Rootfs = rootfs
	c.Annotations = spec.Annotations
	if u, uerr := user.Current(); uerr == nil {
		c.Owner = u.Username
	}
	if spec.Hooks != nil {
		if c.Hooks, err = json.Marshal(spec.Hooks); err != nil {
			return nil, nil, err
		}
	}
	// Saved before anything starts, so a crash from here on leaves a
	// container that delete cleans up.
	if err = c.Save(); err != nil {
		return nil, nil, err
	}

	var res *specs.LinuxResources
	cgPath := ""
	if spec.Linux != nil {
		res, cgPath = spec.Linux.Resources, spec.Linux.CgroupsPath
	}
	cg, err = cgroup.New(cgroup.Path(cgPath, id, global.systemdCgroup), res, func(w string) { warnf("%s", w) })
	if err != nil {
		return nil, nil, err
	}
	c.Cgroups = cg.List()

	if cfg.RootReadOnly {
		if err = makeMountPoints(rootfs, cfg); err != nil {
			return nil, nil, err
		}
	}

	ctl, err := control.Listen(c.SocketPath())
	if err != nil {
		return nil, nil, fmt.Errorf("control socket: %w", err)
	}
	defer ctl.Close()

	if cfg.Process.Terminal {
		master, replica, perr := newHostPty()
		if perr != nil {
			return nil, nil, perr
		}
		defer replica.Close()
		setConsoleSize(replica, cfg.Process.ConsoleRows, cfg.Process.ConsoleCols)
		stdio = [3]*os.File{replica, replica, replica}
		if ptyMaster != nil {
			*ptyMaster = master
		} else {
			err = sendConsole(o.consoleSocket, master)
			master.Close()
			if err != nil {
				return nil, nil, err
			}
		}
	}
	sp, err = spawnSandbox(cfg, spec, rootfs, stdio, ctl, cg.Join)
	if err != nil {
		return nil, nil, err
	}
	if c.Sandbox, err = container.ProcessOf(sp.boot.Process.Pid); err != nil {
		return nil, nil, fmt.Errorf("sandbox process: %w", err)
	}
	if c.Gofer, err = container.ProcessOf(sp.gofer.Process.Pid); err != nil {
		return nil, nil, fmt.Errorf("gofer process: %w", err)
	}
	setOOMScoreAdj(c.Sandbox.PID, spec.Process.OOMScoreAdj)
	if err = c.Transition(container.Created); err != nil {
		return nil, nil, err
	}
	if err = c.Save(); err != nil {
		return nil, nil, err
	}
	if spec.Hooks != nil {
		st := stateOf(c)
		st.Status = "creating"
		for _, h := range []struct {
			kind  string
			hooks []specs.Hook
		}{{"prestart", spec.Hooks.Prestart}, {"createRuntime", spec.Hooks.CreateRuntime}, {"createContainer", spec.Hooks.CreateContainer}} {
			if err = runHooks(h.kind, h.hooks, st); err != nil {
				return nil, nil, err
			}
		}
	}
	// The pid file is written last, atomically: containerd takes its
	// appearance as "create is done".
	if o.pidFile != "" {
		if err = writePidFile(o.pidFile, c.Sandbox.PID); err != nil {
			return nil, nil, err
		}
	}
	return ct, sp, nil
}

// writePidFile writes pid to path atomically (temp file + rename), as
// runc does, so readers never see an empty file.
func writePidFile(path string, pid int) error {
	path, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}
