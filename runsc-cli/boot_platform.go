package main

import (
	"fmt"

	"pangolin/platform"
	"pangolin/platform/ptrace"
)

// platforms are the platforms --platform accepts, by name.
var platforms = map[string]func() (platform.Platform, error){
	"ptrace": func() (platform.Platform, error) { return ptrace.New() },
}

// newPlatform starts the named platform.
func newPlatform(name string) (platform.Platform, error) {
	mk, ok := platforms[name]
	if !ok {
		return nil, fmt.Errorf("unknown platform (available: ptrace)")
	}
	return mk()
}
