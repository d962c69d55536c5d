package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReadmeUpToDate fails if README.md's host syscall lists differ from
// the tables in the code.
func TestReadmeUpToDate(t *testing.T) {
	p := filepath.Join("..", "..", "..", "README.md")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := update(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if want != string(b) {
		t.Fatalf("README.md's host syscall lists are stale: run `make seccomp-doc` (go run ./syscalls-tests/cmd/seccompdoc) and commit README.md")
	}
}
