package main

import (
	"encoding/json"
	"fmt"

	"pangolin/sentry/kernel"
	"pangolin/sentry/socket/netstack"
)

// configureNetwork sets up the sandbox's network namespace from boot's
// --net-config (JSON netstack.Config; empty: loopback only) and returns
// the packet sockets it uses, for the seccomp filter.
func configureNetwork(k *kernel.Kernel, netConfig string) ([]int, error) {
	var cfg netstack.Config
	if netConfig != "" {
		if err := json.Unmarshal([]byte(netConfig), &cfg); err != nil {
			return nil, fmt.Errorf("network configuration: %w", err)
		}
	}
	if err := netstack.Configure(k, cfg); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	var fds []int
	for _, i := range cfg.Interfaces {
		fds = append(fds, i.FD)
	}
	return fds, nil
}
