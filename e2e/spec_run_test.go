package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// `pangolin spec && pangolin run ID` in a bundle whose rootfs is Debian's,
// from a terminal, gives an interactive bash on a terminal of its own,
// as runc does: the CLI proxies the caller's terminal to the sandbox's.
func TestSpecRunInteractive(t *testing.T) {
	requireRoot(t)
	root := debianRoot(t)
	dir := t.TempDir()
	bundle, state := filepath.Join(dir, "bundle"), filepath.Join(dir, "state")
	if err := os.Mkdir(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	// The default spec's root is read-only, so the shared test rootfs
	// can stand in for the bundle's.
	if err := os.Symlink(root, filepath.Join(bundle, "rootfs")); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) *exec.Cmd {
		return exec.Command(pangolin(t), append([]string{"--root", state}, args...)...)
	}
	if out, err := cli("spec", "--bundle", bundle).CombinedOutput(); err != nil {
		t.Fatalf("spec: %v: %s", err, out)
	}
	// The user's edit: bash instead of sh, a prompt to wait for.
	cfgPath := filepath.Join(bundle, "config.json")
	var cfg map[string]any
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	proc := cfg["process"].(map[string]any)
	if proc["terminal"] != true {
		t.Fatalf("default spec: process.terminal = %v, want true", proc["terminal"])
	}
	proc["args"] = []string{"bash", "--norc", "-i"}
	proc["env"] = append(proc["env"].([]any), "PS1=PROMPT$ ")
	if b, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}

	master, replica := hostPty(t)
	defer master.Close()
	cmd := cli("run", "--bundle", bundle, "c1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = replica, replica, replica
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	replica.Close()
	defer cli("delete", "--force", "c1").Run()
	e := newExpecter(t, master)
	say := e.say
	e.expect("PROMPT$ ")
	say("tty; echo answer=$((6*7))\n")
	e.expect("/dev/pts/0")
	e.expect("answer=42")
	e.expect("PROMPT$ ")
	say("sleep 100\n")
	time.Sleep(300 * time.Millisecond)
	say("\x03") // ^C reaches the foreground job, not bash
	e.expect("PROMPT$ ")
	say("echo survived\n")
	e.expect("survived")
	e.expect("PROMPT$ ")
	say("exit 4\n")
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 {
		t.Errorf("run exit status: %v, want 4", err)
	}
}
