package main

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"pangolin/runsc-cli/specconv"
)

func init() {
	register(&command{
		name:    "features",
		summary: "print what this runtime supports (runtime-spec features JSON)",
		run:     runFeatures,
		synopsis: `pangolin features

Prints the OCI runtime features document: spec versions, hooks, mount
options, namespaces, capabilities and cgroup support.

Example:
  pangolin features`,
	})
}

func runFeatures(args []string) int {
	fs := newFlags("features")
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	yes := true
	f := features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions: []string{"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "bind", "rbind",
			"private", "rprivate", "slave", "rslave", "shared", "rshared", "relatime", "strictatime", "noatime", "size", "mode"},
		Linux: &features.Linux{
			Namespaces:   []string{"pid", "network", "ipc", "uts", "mount"},
			Capabilities: specconv.CapabilityNames(),
			Cgroup:       &features.Cgroup{V1: &yes, V2: &yes},
		},
		Annotations: map[string]string{"io.github.pangolin.platform": global.platform},
	}
	b, _ := json.MarshalIndent(f, "", "    ")
	fmt.Println(string(b))
	return 0
}
