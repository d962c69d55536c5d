# python3's http.server in one process, urllib in another, over loopback
# (IPv4 and IPv6): a file, a directory listing, a 404, keep-alive with
# http.client, and a POST to a handler of our own.
import http.client
import http.server
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))

# A separate server process: python3 -m http.server on an ephemeral port.
srv = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", here],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
line = srv.stdout.readline()
port = int(line.split(" port ")[1].split()[0])
base = "http://127.0.0.1:%d" % port
with urllib.request.urlopen(base + "/httpserver.py", timeout=30) as r:
    body = r.read()
    print("file", r.status, r.headers["Content-Type"], body == open(os.path.join(here, "httpserver.py"), "rb").read())
with urllib.request.urlopen(base + "/", timeout=30) as r:
    print("listing", r.status, b"httpserver.py" in r.read())
try:
    urllib.request.urlopen(base + "/nosuch", timeout=30)
except urllib.error.HTTPError as e:
    print("missing", e.code)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for _ in range(3):
    c.request("HEAD", "/httpserver.py")
    r = c.getresponse()
    r.read()
    print("head", r.status, r.headers["Content-Length"] == str(os.path.getsize(os.path.join(here, "httpserver.py"))))
c.close()
srv.terminate()
print("server exit", srv.wait())


# An in-process server on ::1 with a POST handler, served from a thread.
class Echo(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers["Content-Length"])
        data = self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[::-1])

    def log_message(self, *args):
        pass


class V6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


s6 = V6Server(("::1", 0), Echo)
t = threading.Thread(target=s6.serve_forever)
t.start()
payload = b"0123456789" * 100000
req = urllib.request.Request("http://[::1]:%d/" % s6.server_address[1], data=payload, method="POST")
with urllib.request.urlopen(req, timeout=30) as r:
    print("post", r.status, r.read() == payload[::-1])
s6.shutdown()
t.join()
print("done")
