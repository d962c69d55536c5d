package main

import (
	"fmt"
	"log"

	goferfilter "pangolin/gofer/filter"
	"pangolin/seccomp"
	"pangolin/sentry/filter"
)

// sentryRules is the sentry's host syscall allowlist on the named platform.
func sentryRules(platformName string) ([]seccomp.Rule, error) {
	e, ok := platforms[platformName]
	if !ok {
		return nil, fmt.Errorf("unknown platform %q (available: %s)", platformName, platformNames())
	}
	return filter.Sentry(e.hostSyscalls())
}

// installSentryFilter confines the sentry process to its allowlist. boot
// calls it once everything that needs other host syscalls is done (memory
// file, platform and its master stub, gofer connection, stdio, /proc) and
// before the application's first instruction runs.
func installSentryFilter(platformName string) error {
	rules, err := sentryRules(platformName)
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
