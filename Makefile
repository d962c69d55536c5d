# Pangolin build entry point. Go modules, no Bazel.
#
#   make build   -> bin/pangolin (static)
#   make test    -> vet, gofmt check, unit tests, differential syscall tests
#   make test-systrap -> the suites that run app code again, on --platform=systrap
#   make bench   -> native vs sandbox benchmarks, side by side
#   make compat  -> regenerate syscalls-tests/COMPAT.md
#   make seccomp-doc -> regenerate README.md's host syscall lists
#   make vdso    -> rebuild the committed vDSO image (sentry/vdso/vdso.so) from its C source

GO      ?= go
BIN     := bin/pangolin
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
# The sandbox and gofer re-execute the binary inside an empty chroot, so it
# must be static. cgo is only for libseccomp (host seccomp filters), linked
# statically from Debian's libseccomp.a (apt-get install libseccomp-dev);
# netgo and osusergo keep glibc's NSS (which cannot work statically) out.
GOFLAGS_BUILD := -trimpath -tags netgo,osusergo -ldflags '-s -w -X main.version=$(VERSION) -extldflags "-static"'

.PHONY: all build test test-systrap vet fmt-check unit syscalls-tests bench compat seccomp-doc vdso clean

all: build

build:
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_BUILD) -o $(BIN) ./runsc-cli

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Unit and conformance tests of every package, then the differential C
# syscall tests (native vs sandbox) which need the built binary.
test: build vet fmt-check
	$(GO) test -count=1 -timeout 30m ./...

# The suites that run application code (differential syscall tests, the
# escape suite, e2e, OCI verbs, the sentry filter child) again on the
# systrap platform: the CLI takes --platform's default from
# PANGOLIN_PLATFORM. TestDocker and TestCRI are left out: they reuse the containerd and
# dockerd that `make test` started, whose shims would not see the variable.
# Platform conformance tests (platform/...) run for both platforms in
# `make test`.
test-systrap: build
	PANGOLIN_PLATFORM=systrap $(GO) test -count=1 -timeout 30m -skip 'TestDocker|TestCRI' ./syscalls-tests/ ./syscalls-tests/escape/ ./e2e/ ./oci-tests/ ./sentry/filter/

bench: build
	syscalls-tests/bench/run.sh

# Regenerates syscalls-tests/COMPAT.md (make test fails while it is stale).
compat: build
	$(GO) run ./syscalls-tests/cmd/compat

# Regenerates README.md's host seccomp allowlists from the code (make test
# fails while they are stale).
seccomp-doc:
	$(GO) run ./syscalls-tests/cmd/seccompdoc

# Rebuilds sentry/vdso/vdso.so (embedded in the binary) and vdso.sum, which
# records the compiler and source hashes (go test ./sentry/vdso fails while
# the committed image is stale).
vdso:
	sentry/vdso/src/build.sh

clean:
	rm -rf bin syscalls-tests/out
