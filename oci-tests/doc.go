// Package ocitests holds end-to-end tests of the OCI verbs: each test
// builds a busybox bundle, edits its config.json through functional
// options, and drives bin/pangolin as a runtime caller (runc's bats
// tests, in Go). The docker and containerd tests are in e2e/.
package ocitests
