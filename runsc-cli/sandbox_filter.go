package main

import (
	"fmt"
	"log"

	goferfilter "pangolin/gofer/filter"
	"pangolin/seccomp"
	"pangolin/sentry/filter"
)

// sentryRules is the sentry's host syscall allowlist on the named platform;
// controlFD is the OCI control socket, or -1; netFDs are the packet
// sockets of --network=sandbox.
func sentryRules(platformName string, controlFD int, netFDs []int) ([]seccomp.Rule, error) {
	e, ok := platforms[platformName]
	if !ok {
		return nil, fmt.Errorf("unknown platform %q (available: %s)", platformName, platformNames())
	}
	return filter.Sentry(e.hostSyscalls(), filter.Options{ControlFD: controlFD, PacketFDs: netFDs})
}

// installSentryFilter confines the sentry process to its allowlist. boot
// calls it once everything that needs other host syscalls is done (memory
// file, platform and its master stub, gofer connection, stdio, /proc) and
// before the application's first instruction runs. controlFD is the OCI
// control socket, or -1.
func installSentryFilter(platformName string, controlFD int, netFDs []int) error {
	rules, err := sentryRules(platformName, controlFD, netFDs)
	if err != nil {
		return err
	}
	if err := seccomp.Install(rules); err != nil {
		return err
	}
	log.Printf("seccomp: %d host syscalls allowed", len(seccomp.Allowed(rules)))
	return nil
}

// installGoferFilter confines the gofer to its allowlist; the file server
// calls it once its root, /proc/self/fd and connection are open, before the
// first request.
func installGoferFilter() error {
	rules := goferfilter.Rules()
	if err := seccomp.Install(rules); err != nil {
		return err
	}
	log.Printf("seccomp: %d host syscalls allowed", len(seccomp.Allowed(rules)))
	return nil
}

// ociControlFD is the descriptor spawnSandbox gives an OCI sentry for its
// control socket; `pangolin syscalls --sentry` shows the rules for it.
const ociControlFD = 4

// examplePacketFD is the descriptor of the packet socket `pangolin syscalls
// --sentry --network sandbox` shows: the first after the root gofer
// connection of an OCI sandbox without bind mounts.
const examplePacketFD = 7
