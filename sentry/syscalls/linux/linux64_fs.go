package linux

import "pangolin/sentry/kernel"

// fsSyscalls are the file syscalls (being written).
var fsSyscalls = map[uintptr]kernel.Syscall{}
