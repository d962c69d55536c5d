package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Issue #3 acceptance: Debian's own bash, coreutils, procps and python3
// (the debian rootfs), each case compared with a native run chrooted into
// the same tree.

var (
	debOnce sync.Once
	debRoot string
	debErr  string
)

// debianRoot returns a copy of the cached Debian tree, shared by the
// Debian tests of this run, with e2e/testdata/py copied to /e2e. The
// programs write only to /tmp, a tmpfs on both sides.
func debianRoot(t *testing.T) string {
	t.Helper()
	debOnce.Do(func() {
		cached := cachedRootfs(t, "debian")
		dst, err := os.MkdirTemp("", "pangolin-e2e-debian-")
		if err != nil {
			debErr = err.Error()
			return
		}
		if out, err := exec.Command("cp", "-a", cached+"/.", dst).CombinedOutput(); err != nil {
			debErr = "copying rootfs: " + err.Error() + "\n" + string(out)
			return
		}
		if out, err := exec.Command("cp", "-r", "testdata/py", filepath.Join(dst, "e2e")).CombinedOutput(); err != nil {
			debErr = "copying scripts: " + err.Error() + "\n" + string(out)
			return
		}
		debRoot = dst
	})
	if debErr != "" {
		t.Fatal(debErr)
	}
	return debRoot
}

// removeDebianRoot is called by TestMain after the tests.
func removeDebianRoot() {
	if debRoot != "" {
		os.RemoveAll(debRoot)
	}
}

// debCase is one Debian check.
type debCase struct {
	name       string
	argv       []string
	norm       func(string) string
	wantStatus int
	timeout    time.Duration
	opts       runOpts
}

func bash(script string) []string { return []string{"/bin/bash", "-c", script} }

func runDebCases(t *testing.T, cases []debCase) {
	requireRoot(t)
	pangolin(t)
	root := debianRoot(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.opts
			o.timeout = c.timeout
			if o.timeout == 0 {
				o.timeout = 90 * time.Second
			}
			native := runNative(t, root, c.argv, o)
			if native.status != c.wantStatus || native.timedOut {
				t.Fatalf("native run: want status %d, got\n%s", c.wantStatus, native)
			}
			sb := runSandbox(t, root, c.argv, o)
			verdict(t, compareRuns(native, sb, c.norm))
		})
	}
}

func TestBash(t *testing.T) {
	runDebCases(t, []debCase{
		{name: "pipeline", argv: bash(`printf 'c b a\nz y x\n' | tr ' ' '\n' | sort -r | head -4 | cat -n`)},
		{name: "subshell", argv: bash(`x=1; (x=2; cd /etc; echo "in $x $PWD"); echo "out $x $PWD"; (exit 4); echo "status $?"`)},
		{name: "command-substitution", argv: bash(`a=$(echo outer $(echo inner)); echo "$a"; n=$(ls /etc | wc -l); [ "$n" -gt 10 ] && echo many; echo "$(( $(echo 6) * 7 ))"; b=` + "`echo backtick`" + `; echo $b`)},
		{name: "here-doc", argv: bash("x=var\ncat <<EOF\nline one $x\n  $(echo subst)\nEOF\ncat <<'EOF'\nliteral $x\nEOF\nwc -l <<< 'here string'\ntr a-z A-Z <<-EOF\n\tindented\n\tEOF")},
		{name: "background-wait", argv: bash(`sleep 0.3 & a=$!; (sleep 0.1; exit 3) & b=$!; wait $b; echo "b=$?"; wait $a; echo "a=$?"; for i in 1 2 3; do (exit $i) & done; wait; echo "all done"; echo end`)},
		{name: "trap-exit", argv: bash(`trap 'echo exit trap $?' EXIT; echo body; exit 5`), wantStatus: 5},
		{name: "trap-term", argv: bash(`trap 'echo got TERM; exit 9' TERM; kill -TERM $$; echo not reached`), wantStatus: 9},
		{name: "trap-int", argv: bash(`trap 'echo got INT' INT; kill -INT $$; echo continued; trap - INT; echo reset`)},
		{name: "trap-term-external", argv: bash(`trap 'echo got TERM from outside; exit 0' TERM; echo ready; for i in {1..100}; do sleep 0.1; done; echo no signal`),
			opts: runOpts{signal: syscall.SIGTERM, signalAfter: 1500 * time.Millisecond}},
		{name: "set-e", argv: bash(`set -e; echo before; false; echo not reached`), wantStatus: 1},
		{name: "set-e-exempt", argv: bash(`set -e; if false; then :; fi; false || echo rescued; ! true; echo survived`)},
		{name: "pipefail", argv: bash(`false | true; echo "no pipefail $?"; set -o pipefail; false | true; echo "pipefail $?"; (exit 3) | (exit 0) | true; echo "rightmost failure $?"; echo "${PIPESTATUS[@]}"`)},
		// read -t waits in select(2) on stdin, a host pipe.
		{name: "stdin-read-timeout", argv: bash(`read -t 10 a; echo "got $a"; read -t 10 -n 4 b; echo "then $b"; read -t 10 c; echo "rest $c"; read -t 10 d || echo "eof $?"`),
			opts: runOpts{stdin: "hello\nrest of the input\n"}},
		{name: "functions-arrays", argv: bash(`f() { local x=$1; echo "f $x $#"; return 2; }; f a b; echo $?; declare -A m=([k]=v); arr=(1 2 3); echo "${arr[@]} ${#arr[@]} ${m[k]}"; echo {1..5}; printf '%05.1f\n' 3.14159`)},
	})
}

// psNorm keeps what `ps aux` must get right (user, pid, tty, state,
// command) and drops what measures the run: %CPU, %MEM, VSZ, RSS, START
// and TIME.
func psNorm(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		if len(f) < 11 {
			out = append(out, l)
			continue
		}
		f[7] = waiterState(f[7], f[10])
		out = append(out, strings.Join(append([]string{f[0], f[1], f[6], f[7]}, f[10:]...), " "))
	}
	return strings.Join(out, "\n")
}

// waiterState shows a process that is not the reader (ps or top) as
// sleeping: natively the shell that forked the reader may still be
// running on its way to wait4 when the reader looks, while the sandbox
// shows every task but the reader asleep.
func waiterState(state, cmd string) string {
	if strings.HasPrefix(state, "R") && cmd != "ps" && cmd != "top" {
		return "S" + state[1:]
	}
	return state
}

// psONorm applies waiterState to `ps -eo pid,ppid,pgid,sid,stat,nlwp,comm,args`.
func psONorm(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		if len(f) >= 7 && f[0] != "PID" {
			f[4] = waiterState(f[4], f[6])
		}
		out = append(out, strings.Join(f, " "))
	}
	return strings.Join(out, "\n")
}

// topNorm keeps what `top -b -n1` must get right: the task counts and,
// per process, PID, USER, PR, NI, state and command. It drops what
// measures the machine or the moment: the clock and uptime, CPU
// percentages, memory totals (the sandbox reports its own), and each
// process's VIRT, RES, SHR, %CPU, %MEM and TIME+.
func topNorm(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "top - "), strings.HasPrefix(l, "%Cpu"),
			strings.HasPrefix(l, "MiB Mem"), strings.HasPrefix(l, "MiB Swap"):
			// The label only: "%Cpu(s):100.0 us" has no space after
			// the colon.
			label, _, _ := strings.Cut(l, ":")
			out = append(out, label+": ...")
		case strings.HasPrefix(l, "Tasks:"):
			// Running and sleeping counts depend on the shell's
			// race to wait4 (see waiterState).
			out = append(out, f[0]+" "+f[1]+" total ...")
		case len(f) >= 12 && f[0] != "PID":
			out = append(out, strings.Join(append([]string{f[0], f[1], f[2], f[3], waiterState(f[7], f[11])}, f[11:]...), " "))
		default:
			out = append(out, strings.Join(f, " "))
		}
	}
	return strings.Join(out, "\n")
}

// waitAsleep is a bash loop, builtins only (a fork would take a PID),
// until each of the processes whose PIDs are listed has exec'd sleep and
// is sleeping in it (state S), so that ps and top see the same processes
// in the same states on both sides.
func waitAsleep(pids string) string {
	return `for p in ` + pids + `; do n=; s=; until [ "$n $s" = "(sleep) S" ]; do read -r _ n s _ < /proc/$p/stat; done; done; `
}

// psWait starts three background sleeps (one in a subshell) and waits
// until they sleep.
var psWait = `sleep 3 & a=$!; sleep 3 & b=$!; (sleep 3 & echo $! > /tmp/r; wait) & ` +
	`until [ -s /tmp/r ]; do :; done; read -r c < /tmp/r; ` + waitAsleep("$a $b $c")

func TestCoreutils(t *testing.T) {
	runDebCases(t, []debCase{
		{name: "ls-l", argv: bash(`ls -l /etc /usr/share/doc/bash; ls -la /usr/lib/os-release; ls -ld /usr/bin /bin`)},
		{name: "sort", argv: bash(`sort /etc/passwd; sort -t: -k3,3n -r /etc/group; printf '10\n9\n1e3\n-2\n' > /tmp/n; sort -g /tmp/n; sort -u /etc/shells`)},
		{name: "find-xdev-exec", argv: bash(`find / -xdev -path '/usr/share/doc/*' -name copyright -exec md5sum {} + | sort | head -20; find / -xdev -type d -name 'python3*' | sort; find /etc -xdev -type f -exec wc -c {} \; | sort -k2 | tail -5`)},
		{name: "xargs-P4", argv: bash(`seq 1 40 | xargs -P4 -n1 sh -c 'echo $(( $0 * $0 ))' | sort -n | tr '\n' ' '; echo; ls /usr/bin | head -50 | xargs -P4 -n5 echo | wc -l`)},
		{name: "grep-r", argv: bash(`grep -r -l root /etc | sort; grep -rn 'bash' /etc/passwd /etc/shells; grep -rc '^#' /etc/default | sort; grep -rE 'ID=(debian|[0-9]+)' /etc/os-release`)},
		{name: "sed", argv: bash(`sed -n 's/^\([^:]*\):[^:]*:\([0-9]*\):.*/\2 \1/p' /etc/passwd; sed -e '1,3d' -e 's/:/ /g' /etc/group | head -3; printf 'a\nb\nc\n' > /tmp/s; sed -i '2i inserted' /tmp/s; cat /tmp/s`)},
		{name: "awk", argv: bash(`awk -F: '{n[$7]++; s+=$3} END {for (k in n) print k, n[k] | "sort"; print NR, s}' /etc/passwd; awk 'BEGIN {printf "%.3f %d %s\n", atan2(1,1)*4, 2^20, toupper("gawk")}'`)},
		{name: "tar-roundtrip", argv: bash(`set -e; cd /tmp; tar czf doc.tgz -C /usr/share doc; mkdir x; tar xzf doc.tgz -C x; (cd /usr/share && find doc -type f -exec sha256sum {} + | sort) > a; (cd x && find doc -type f -exec sha256sum {} + | sort) > b; cmp a b && echo identical; wc -l < a; tar tzf doc.tgz | sort | head -5; gzip -t doc.tgz && echo gzip ok`)},
		{name: "ps-aux", argv: bash(psWait + `ps aux; kill %1 %2 %3; wait`), norm: psNorm},
		// Sorted by PID: the default %CPU order is checked by cpu-time.
		{name: "top-b-n1", argv: bash(`sleep 3 & a=$!; ` + waitAsleep("$a") + `top -b -n1 -w 120 -o PID; echo "top status $?"; kill %1; wait`), norm: topNorm},
		// Processes that sleep use no CPU time: ps's TIME (utime+stime
		// of /proc/PID/stat) stays 00:00:00.
		{name: "cpu-time", argv: bash(`sleep 2 & sleep 1.5; ps -o pid,time,comm`)},
		{name: "ps-o", argv: bash(`sleep 3 & a=$!; ` + waitAsleep("$a") + `ps -eo pid,ppid,pgid,sid,stat,nlwp,comm,args --sort pid; kill $!; wait`), norm: psONorm},
	})
}

func TestPython(t *testing.T) {
	py := func(name string) []string { return []string{"/usr/bin/python3", "/e2e/" + name + ".py"} }
	runDebCases(t, []debCase{
		{name: "start", argv: []string{"/usr/bin/python3", "-c", "import sys, os; print(sys.version_info[:2], os.getpid(), os.getcwd(), os.cpu_count(), len(os.sched_getaffinity(0)))"}},
		{name: "ThreadPoolExecutor", argv: py("threads")},
		{name: "multiprocessing-Pool", argv: py("pool")},
		{name: "subprocess-pipes", argv: py("subproc")},
		{name: "alarm-handler", argv: py("alarm")},
		{name: "fork-waitpid", argv: py("fork")},
		{name: "AF_UNIX-two-processes", argv: py("unixsock")},
		{name: "http.server-urllib-loopback", argv: py("httpserver")},
		// select(2) and poll(2) on stdin, a host pipe: readable with
		// data, then readable at EOF.
		{name: "select-poll-stdin", argv: []string{"/usr/bin/python3", "-c", "import os, select; print(select.select([0], [], [], 10)[0]); print(os.read(0, 5)); p = select.poll(); p.register(0, select.POLLIN); print(p.poll(10000)); print(os.read(0, 100)); print(select.select([0], [], [], 10)[0], os.read(0, 100))"},
			opts: runOpts{stdin: "data and more\n"}},
		{name: "hashlib-100MB", argv: py("hash100"), timeout: 180 * time.Second},
		// The vDSO: clocks from glibc in a dynamic program.
		{name: "clocks-vdso", argv: py("clocks")},
	})
}

// TestForkBomb forks until `ulimit -u 200` stops the program with EAGAIN,
// as an unprivileged user (root ignores RLIMIT_NPROC). Both runs are
// inside a pids cgroup (see runCmd) and the native one in its own PID
// namespace, so a sandbox that fails to enforce the limit hits the cgroup
// limit instead of the machine's. Afterwards the machine must be able to
// start processes and a new sandbox must work.
func TestForkBomb(t *testing.T) {
	if pidsCgroup(t) == "" {
		t.Skip("no pids cgroup controller on this machine: the fork bomb is not run without a host-side limit (machine capability missing)")
	}
	runDebCases(t, []debCase{
		{name: "ulimit-u-200", argv: bash(`ulimit -u 200 && exec /usr/bin/python3 /e2e/forkbomb.py`), timeout: 120 * time.Second},
	})
	if out, err := exec.Command("/bin/true").CombinedOutput(); err != nil {
		t.Errorf("the host cannot start a process after the fork bomb: %v %s", err, out)
	}
	r := runSandbox(t, debianRoot(t), []string{"/bin/echo", "alive"}, runOpts{timeout: 30 * time.Second})
	if r.status != 0 || r.stdout != "alive\n" {
		t.Errorf("a new sandbox after the fork bomb: %s", r)
	}
}

// TestProcps runs the rest of procps (free, uptime, vmstat, pgrep, pkill,
// pidof, pmap, pwdx, ps -L) on the sandbox's /proc. Memory sizes, times
// and load are the machine's, so the scripts print what is stable: labels,
// exit statuses, PIDs, thread counts.
func TestProcps(t *testing.T) {
	runDebCases(t, []debCase{
		{name: "free", argv: bash(`free > /tmp/f; echo "status $?"; awk '{print $1}' /tmp/f; free -h -w -t > /dev/null; echo "status $?"`)},
		{name: "uptime", argv: bash(`uptime > /tmp/u; echo "status $?"; grep -c 'load average: [0-9.]*, [0-9.]*, [0-9.]*$' /tmp/u; uptime -p | grep -c '^up'`)},
		{name: "vmstat", argv: bash(`vmstat 1 2 > /tmp/v; echo "status $?"; head -2 /tmp/v; wc -l < /tmp/v; vmstat -s | sed 's/^ *[0-9]* //' ; vmstat -S M > /dev/null; echo "status $?"`)},
		{name: "pgrep-pkill-pidof", argv: bash(`sleep 5 & a=$!; sleep 6 & b=$!; ` + waitAsleep("$a $b") + `pgrep -l sleep; pgrep -c sleep; pidof sleep; pgrep -f 'sleep 6'; pkill -f 'sleep 5'; wait $a; echo "killed $?"; pkill -KILL sleep; wait $b; echo "killed $?"; pgrep sleep; echo "none $?"`)},
		{name: "pmap-pwdx", argv: bash(`cd /etc; pwdx $$; pmap $$ | head -1; pmap -x $$ > /dev/null; echo "status $?"`)},
		{name: "ps-threads", argv: bash(`python3 -c 'import threading, time
ev = threading.Event()
ts = [threading.Thread(target=ev.wait) for _ in range(3)]
for t in ts: t.start()
open("/tmp/ready", "w").close()
time.sleep(2); ev.set()' & until [ -e /tmp/ready ]; do :; done; ps -eLo pid,lwp,nlwp,comm; ps -o pid,nlwp,comm -p $!; ls /proc/$!/task | wc -l; grep Threads /proc/$!/status; wait`)},
	})
}
