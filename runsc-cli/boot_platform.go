package main

import (
	"fmt"
	"sort"
	"strings"

	"pangolin/platform"
	"pangolin/platform/ptrace"
	"pangolin/seccomp"
)

// platformEntry is one platform --platform accepts.
type platformEntry struct {
	new func() (platform.Platform, error)
	// hostSyscalls are the platform's additions to the sentry's seccomp
	// allowlist (sentry/filter).
	hostSyscalls func() []seccomp.Rule
}

// platforms are the platforms --platform accepts, by name.
var platforms = map[string]platformEntry{
	"ptrace": {
		new:          func() (platform.Platform, error) { return ptrace.New() },
		hostSyscalls: ptrace.HostSyscalls,
	},
}

func platformNames() string {
	var names []string
	for n := range platforms {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// newPlatform starts the named platform.
func newPlatform(name string) (platform.Platform, error) {
	e, ok := platforms[name]
	if !ok {
		return nil, fmt.Errorf("unknown platform (available: %s)", platformNames())
	}
	return e.new()
}
