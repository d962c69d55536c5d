// Package syscallstests holds the differential syscall tests: small static
// C programs (src/*.c) that are run natively and inside the sandbox
// (bin/pangolin do), whose exit status, stdout and stderr must match byte
// for byte. See README.md for how to run them; the harness is
// harness_test.go.
package syscallstests
