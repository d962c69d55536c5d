#!/bin/sh
# Native vs sandbox benchmarks (make bench). Builds the C micro-benchmarks,
# runs each natively and in `bin/pangolin do`, times /bin/true in a fresh
# sandbox and samples the sandbox's peak RSS, then prints a table:
#   metric | native | ptrace | ratio | systrap | ratio
# Options are passed to the runner, e.g.: run.sh -runs 5 -pangolin bin/pangolin
set -eu
cd "$(dirname "$0")/../.."
exec go run ./syscalls-tests/bench/runner "$@"
