package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestNetworkSandbox is --network=sandbox end to end: two network
// namespaces the test makes, joined by a veth pair (192.0.2.1 in "peer",
// 192.0.2.2 in "box", with a default route through the peer); a sandbox
// takes over box's interface and serves HTTP (python3's http.server) that
// the test fetches from the peer namespace, and fetches from an HTTP
// server the test runs there. Afterwards box's interface has given up its
// address: the sandbox's netstack had it, the host kernel did not answer.
// All traffic stays between the two namespaces.
func TestNetworkSandbox(t *testing.T) {
	// The sandbox dies with the thread that started it (Pdeathsig):
	// keep this goroutine on its thread, so that the threads inNetns
	// retires in a namespace are never that one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	requireRoot(t)
	bin := pangolin(t)
	root := debianRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("ip (iproute2) not found: .ci/setup installs it")
	}
	peer, box := fmt.Sprintf("pangolin-e2e-%d-peer", os.Getpid()), fmt.Sprintf("pangolin-e2e-%d-box", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", peer)
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", peer).Run() })
	ip("netns", "add", box)
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", box).Run() })
	ip("-n", peer, "link", "add", "pg0", "type", "veth", "peer", "name", "eth0", "netns", box)
	ip("-n", peer, "addr", "add", "192.0.2.1/24", "dev", "pg0")
	ip("-n", peer, "link", "set", "pg0", "up")
	ip("-n", peer, "link", "set", "lo", "up")
	ip("-n", box, "addr", "add", "192.0.2.2/24", "dev", "eth0")
	ip("-n", box, "link", "set", "eth0", "up")
	ip("-n", box, "route", "add", "default", "via", "192.0.2.1")

	// The peer's HTTP server, listening from a thread in the peer
	// namespace.
	var ln net.Listener
	inNetns(t, "/run/netns/"+peer, func() error {
		var err error
		ln, err = net.Listen("tcp4", "192.0.2.1:9090")
		return err
	})
	defer ln.Close()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "peer says hello to %s", strings.Split(r.RemoteAddr, ":")[0])
	}))

	script := `
import http.server, socket, sys, threading, urllib.request
print("interfaces", socket.if_nameindex())
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("sandbox says hello to %s" % self.client_address[0]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        served.set()
    def log_message(self, *a):
        pass
served = threading.Event()
srv = http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
with urllib.request.urlopen("http://192.0.2.1:9090/", timeout=20) as r:
    print("fetched", r.read().decode())
print("ready", flush=True)
print("served", served.wait(30), flush=True)
`
	cmd := exec.Command(bin, "do", "--rootfs", root, "--network", "sandbox", "--netns", "/run/netns/"+box,
		"--", "/usr/bin/python3", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(90*time.Second, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer timer.Stop()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	for l := range lines {
		got = append(got, l)
		if l == "ready" {
			break
		}
	}
	var body string
	inNetns(t, "/run/netns/"+peer, func() error {
		c, err := net.DialTimeout("tcp4", "192.0.2.2:8080", 10*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: 192.0.2.2\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return err
	})
	for l := range lines {
		got = append(got, l)
	}
	err = cmd.Wait()
	out := strings.Join(got, "\n")
	if err != nil {
		t.Fatalf("sandbox: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	want := "interfaces [(1, 'lo'), (2, 'eth0')]\nfetched peer says hello to 192.0.2.2\nready\nserved True"
	if out != want {
		t.Errorf("sandbox output:\n%s\nwant:\n%s\nstderr:\n%s", out, want, stderr.String())
	}
	if body != "sandbox says hello to 192.0.2.1" {
		t.Errorf("fetched from the sandbox: %q", body)
	}
	// The host side of eth0 kept no IPv4 address.
	o, err := exec.Command("ip", "-n", box, "-4", "-o", "addr", "show", "dev", "eth0").CombinedOutput()
	if err != nil || strings.Contains(string(o), "inet ") {
		t.Errorf("box's eth0 still has its address on the host side (%v):\n%s", err, o)
	}
}

// inNetns runs fn on a thread in the network namespace at path; the thread
// is never reused (its goroutine ends with it locked), so the test's other
// threads stay in the host's namespace. Sockets fn creates live in path's
// namespace.
func inNetns(t *testing.T, path string, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	if err := <-errc; err != nil {
		t.Fatalf("in %s: %v", path, err)
	}
}
