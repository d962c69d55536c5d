package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompatTableUpToDate regenerates COMPAT.md in memory from the built
// binary and fails if the committed file differs.
func TestCompatTableUpToDate(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "bin", "pangolin")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s not found: run `make build` first", bin)
	}
	want, n, err := generate(root, bin)
	if err != nil {
		t.Fatal(err)
	}
	if n < 300 {
		t.Errorf("only %d syscalls in the table", n)
	}
	if !strings.Contains(want, "| 39 | getpid | supported |") {
		t.Errorf("the generated table has no supported getpid row:\n%.2000s", want)
	}
	got, err := os.ReadFile(filepath.Join(root, "syscalls-tests", "COMPAT.md"))
	if err != nil || string(got) != want {
		t.Fatalf("syscalls-tests/COMPAT.md is stale or missing: run `make build && make compat` (go run ./syscalls-tests/cmd/compat) and commit it")
	}
}
