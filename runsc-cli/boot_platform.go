package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"pangolin/platform"
	"pangolin/platform/ptrace"
	"pangolin/platform/systrap"
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
	"systrap": {
		new:          func() (platform.Platform, error) { return systrap.New() },
		hostSyscalls: systrap.HostSyscalls,
	},
}

// platformEnv names the environment variable that sets the default of
// --platform (for running whole test suites on another platform:
// PANGOLIN_PLATFORM=systrap make test).
const platformEnv = "PANGOLIN_PLATFORM"

// defaultPlatform is --platform's default: $PANGOLIN_PLATFORM, else ptrace.
func defaultPlatform() string {
	if p := os.Getenv(platformEnv); p != "" {
		return p
	}
	return "ptrace"
}

// platformHelp is the help text of --platform.
func platformHelp() string {
	return "how app code runs and traps (" + platformNames() + "; default $" + platformEnv + ", else ptrace)"
}

// checkPlatform rejects an unknown platform name.
func checkPlatform(name string) error {
	if _, ok := platforms[name]; !ok {
		return fmt.Errorf("--platform %q: unknown platform (available: %s)", name, platformNames())
	}
	return nil
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
