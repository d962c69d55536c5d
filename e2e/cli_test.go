package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLIErrors checks that bad arguments to `pangolin do` give one line
// on stderr and the exit status a shell (127 not found, 126 not
// executable) or runc (1 for usage errors) would.
func TestCLIErrors(t *testing.T) {
	requireRoot(t)
	bin := pangolin(t)
	root := copyRootfs(t, cachedRootfs(t, "busybox"))
	if err := os.WriteFile(filepath.Join(root, "noexec"), []byte("#!/bin/sh\necho hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		status int
		want   string // substring of the one-line message
		asUser bool   // run the CLI as nobody
	}{
		{"missing-rootfs", []string{"do", "--rootfs", "/nonexistent/rootfs", "--", "/bin/true"}, 1, "no such directory", false},
		{"rootfs-not-dir", []string{"do", "--rootfs", filepath.Join(root, "etc/passwd"), "--", "/bin/true"}, 1, "not a directory", false},
		{"cmd-not-found", []string{"do", "--rootfs", root, "--", "/bin/nonexistent"}, 127, "no such file", false},
		{"cmd-not-in-path", []string{"do", "--rootfs", root, "--", "nonexistent-command"}, 127, "no such file", false},
		{"cmd-not-executable", []string{"do", "--rootfs", root, "--", "/noexec"}, 126, "permission denied", false},
		{"cmd-is-directory", []string{"do", "--rootfs", root, "--", "/etc"}, 126, "permission denied", false},
		{"no-command", []string{"do", "--rootfs", root}, 1, "no command", false},
		{"unknown-flag", []string{"do", "--no-such-flag", "--", "/bin/true"}, 1, "unknown flag", false},
		{"bad-env", []string{"do", "--rootfs", root, "--env", "NOEQUALS", "--", "/bin/true"}, 1, "K=V", false},
		{"relative-cwd", []string{"do", "--rootfs", root, "--cwd", "tmp", "--", "/bin/true"}, 1, "absolute", false},
		{"not-root", []string{"do", "--rootfs", root, "--", "/bin/true"}, 1, "root", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			cmd.Dir = "/"
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if c.asUser {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			}
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("timed out")
			}
			status := cmd.ProcessState.ExitCode()
			msg := stderr.String()
			var problem string
			switch {
			case status != c.status:
				problem = "exit status " + itoa(status) + ", want " + itoa(c.status)
			case strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n"):
				problem = "want exactly one line on stderr"
			case !strings.HasPrefix(msg, "pangolin: ") || !strings.Contains(msg, c.want):
				problem = "want a \"pangolin: ...\" line containing " + c.want
			case stdout.Len() != 0:
				problem = "unexpected stdout"
			}
			if problem != "" {
				problem += "\nstdout: " + stdout.String() + "\nstderr: " + msg
			}
			verdict(t, problem)
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
