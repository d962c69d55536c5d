package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pangolin/runsc-cli/specconv"
)

// sandboxProcs are the processes create started.
type sandboxProcs struct {
	boot, gofer *exec.Cmd
}

// kill ends both processes (a failed create).
func (p *sandboxProcs) kill() {
	for _, c := range []*exec.Cmd{p.boot, p.gofer} {
		if c != nil && c.Process != nil {
			c.Process.Kill()
			c.Wait()
		}
	}
}

// release lets both processes outlive the CLI.
func (p *sandboxProcs) release() {
	p.boot.Process.Release()
	p.gofer.Process.Release()
}

// exitError is a failure with the exit code the CLI should use.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// spawnSandbox starts the gofer (serving rootfs and every bind mount)
// and the sentry for cfg, and waits until the sentry has built the
// sandbox and is ready for start. join puts a process in the container's
// cgroups. stdio are the container's standard
// streams (a terminal replica three times, or the caller's). Neither
// process keeps anything of the caller's but those streams: the gofer has
// /dev/null, so a caller waiting for EOF on a pipe it passed (containerd's
// shim) is not held up by it.
func spawnSandbox(cfg *specconv.Config, spec *specs.Spec, rootfs string, stdio [3]*os.File, ctl *os.File, join func(pid int) error) (*sandboxProcs, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding own binary: %w", err)
	}
	procs := &sandboxProcs{}
	ok := false
	defer func() {
		if !ok {
			procs.kill()
		}
	}()

	// One socketpair per tree the gofer serves: the root, then each bind
	// mount in Config.Mounts order (their Gofer indices).
	var goferEnds, sentryEnds []*os.File
	defer func() {
		for _, f := range append(goferEnds, sentryEnds...) {
			f.Close()
		}
	}()
	pair := func() error {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("gofer socket: %w", err)
		}
		goferEnds = append(goferEnds, os.NewFile(uintptr(fds[0]), "gofer"))
		sentryEnds = append(sentryEnds, os.NewFile(uintptr(fds[1]), "sentry"))
		return nil
	}
	if err := pair(); err != nil {
		return nil, err
	}
	goferArgs := []string{"gofer", "--root", rootfs, "--sock-fd", "3"}
	if cfg.RootReadOnly {
		goferArgs = append(goferArgs, "--ro")
	}
	for _, m := range cfg.Mounts {
		if m.Kind != specconv.KindBind {
			continue
		}
		if err := pair(); err != nil {
			return nil, err
		}
		spec := fmt.Sprintf("%s=%d", m.Source, 3+len(goferEnds)-1)
		if m.ReadOnly {
			spec += ":ro"
		}
		goferArgs = append(goferArgs, "--mount", spec)
	}
	if global.debugLog != "" {
		goferArgs = append(goferArgs, "--debug-log", global.debugLog)
	}
	gofer := exec.Command(self, goferArgs...)
	gofer.ExtraFiles = goferEnds
	gofer.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	gc, err := confine(gofer, kindGofer, confineOptions{RootRecursive: true, RootReadOnly: cfg.RootReadOnly})
	if err != nil {
		return nil, fmt.Errorf("gofer: %w", err)
	}
	defer gc.abandon()
	if err := gofer.Start(); err != nil {
		return nil, fmt.Errorf("starting gofer: %w", err)
	}
	gc.started(gofer.Process.Pid)
	procs.gofer = gofer

	// The configuration goes over a pipe that the sentry reads before
	// anything else: written only after both processes are in the
	// container's cgroups, it gates the sentry until then, so nothing it
	// starts (stub processes, memory) escapes the limits.
	cfgFile, cfgW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer cfgFile.Close()
	defer cfgW.Close()
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()

	extra := []*os.File{cfgFile, ctl, readyW}
	var gfds []string
	for i, f := range sentryEnds {
		extra = append(extra, f)
		gfds = append(gfds, strconv.Itoa(6+i))
	}
	bootArgs := []string{"boot", "--config-fd", "3", "--control-fd", strconv.Itoa(ociControlFD), "--ready-fd", "5",
		"--gofer-fds", strings.Join(gfds, ","), "--platform", global.platform}
	net, err := ociNetwork(spec)
	if err != nil {
		readyW.Close()
		return nil, err
	}
	if net != nil {
		defer net.close()
		js, err := net.configJSON(3 + len(extra))
		if err != nil {
			readyW.Close()
			return nil, err
		}
		extra = append(extra, net.files...)
		bootArgs = append(bootArgs, "--net-config", js)
	}
	if global.debugLog != "" {
		bootArgs = append(bootArgs, "--debug-log", global.debugLog)
	}
	if global.strace {
		bootArgs = append(bootArgs, "--strace")
	}
	// The container's command line, for people reading ps on the host.
	bootArgs = append(bootArgs, "--")
	bootArgs = append(bootArgs, cfg.Process.Args...)
	boot := exec.Command(self, bootArgs...)
	boot.ExtraFiles = extra
	boot.Stdin, boot.Stdout, boot.Stderr = stdio[0], stdio[1], stdio[2]
	boot.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	bc, err := confine(boot, kindSentry, confineOptions{})
	if err != nil {
		readyW.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	defer bc.abandon()
	if err := startInNetns(boot, spec); err != nil {
		readyW.Close()
		return nil, err
	}
	bc.started(boot.Process.Pid)
	readyW.Close()
	procs.boot = boot
	cfgFile.Close()
	for _, p := range []int{gofer.Process.Pid, boot.Process.Pid} {
		if err := join(p); err != nil {
			return nil, err
		}
	}
	// Both confine themselves once in their cgroups (see confine).
	for _, c := range []*confinedProc{gc, bc} {
		if err := c.release(); err != nil {
			return nil, err
		}
	}
	go func() {
		cfgW.Write(b)
		cfgW.Close()
	}()

	// The sentry reports one line when the sandbox is built (or why it
	// could not be); EOF without it means it died.
	line, err := bufio.NewReader(readyR).ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("sandbox failed to start (see --debug-log for details)")
	}
	var msg readyMsg
	if err := json.Unmarshal(line, &msg); err != nil {
		return nil, fmt.Errorf("sandbox: malformed ready message %q", line)
	}
	if msg.Error != "" {
		code := msg.Code
		if code == 0 {
			code = 1
		}
		return nil, &exitError{code: code, err: errors.New(msg.Error)}
	}
	ok = true
	return procs, nil
}

// ociNetwork sets up --network=sandbox for an OCI container: the
// interfaces of the network namespace at the spec's path are taken over
// (attachNetns). A namespace the runtime creates (no path) is new and
// empty, and a container without one, or whose path is the host's own
// namespace, shares the host's, whose interfaces the sandbox never takes:
// they get loopback only (nil).
func ociNetwork(spec *specs.Spec) (*sandboxNetwork, error) {
	if global.network != networkSandbox || spec.Linux == nil {
		return nil, nil
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type != specs.NetworkNamespace {
			continue
		}
		if ns.Path == "" {
			return nil, nil
		}
		if host, err := isHostNetns(ns.Path); err != nil {
			return nil, fmt.Errorf("network namespace %s: %w", ns.Path, err)
		} else if host {
			// A pod or container on the host's network (CRI without
			// a CNI network, host networking): its interfaces are
			// the host's.
			warnf("the container's network namespace %s is the host's: the sandbox gets loopback only (Pangolin never takes over the host's interfaces)", ns.Path)
			return nil, nil
		}
		return attachNetns(ns.Path)
	}
	warnf("the container has no network namespace of its own: the sandbox gets loopback only (Pangolin never takes over the host's interfaces)")
	return nil, nil
}

// startInNetns starts cmd in the network namespace the spec asks for: the
// one at linux.namespaces[network].path (joined with setns(2) on a locked
// thread that the child is forked from, and that is never reused), a new
// one if the entry has no path, or the host's if there is no entry or
// --network=host.
func startInNetns(cmd *exec.Cmd, spec *specs.Spec) error {
	var netns *specs.LinuxNamespace
	if spec.Linux != nil && global.network != "host" {
		for i, ns := range spec.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				netns = &spec.Linux.Namespaces[i]
			}
		}
	}
	switch {
	case netns == nil:
		return wrapStart(cmd.Start())
	case netns.Path == "":
		cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWNET
		return wrapStart(cmd.Start())
	}
	errc := make(chan error, 1)
	go func() {
		// The thread stays locked and dies with this goroutine, so its
		// namespace never leaks into the rest of the CLI.
		runtime.LockOSThread()
		fd, err := unix.Open(netns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("network namespace %s: %w", netns.Path, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("joining network namespace %s: %w", netns.Path, err)
			return
		}
		errc <- wrapStart(cmd.Start())
	}()
	return <-errc
}

func wrapStart(err error) error {
	if err != nil {
		return fmt.Errorf("starting sandbox: %w", err)
	}
	return nil
}

// setOOMScoreAdj writes the spec's oom_score_adj for pid. Lowering it
// needs CAP_SYS_RESOURCE, which root may lack (as on this project's CI
// machines): that is a warning, not a failure, as the score only matters
// under host memory pressure.
func setOOMScoreAdj(pid int, adj *int) {
	if adj == nil {
		return
	}
	p := fmt.Sprintf("/proc/%d/oom_score_adj", pid)
	if err := os.WriteFile(p, []byte(strconv.Itoa(*adj)), 0); err != nil {
		warnf("oom_score_adj %d not applied: %v", *adj, err)
	}
}
