# An AF_UNIX stream server and a client in two processes.
import os
import socket

path = "/tmp/e2e.sock"
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
pid = os.fork()
if pid == 0:
    srv.close()
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    for msg in (b"hello", b"world" * 1000):
        c.sendall(len(msg).to_bytes(4, "big") + msg)
        n = int.from_bytes(c.recv(4, socket.MSG_WAITALL), "big")
        reply = c.recv(n, socket.MSG_WAITALL)
        print("client got", len(reply), reply[:10])
    c.close()
    os._exit(0)
conn, _ = srv.accept()
while True:
    hdr = conn.recv(4, socket.MSG_WAITALL)
    if not hdr:
        break
    msg = conn.recv(int.from_bytes(hdr, "big"), socket.MSG_WAITALL)
    reply = msg.upper()
    conn.sendall(len(reply).to_bytes(4, "big") + reply)
_, status = os.waitpid(pid, 0)
print("server done, client status", os.WEXITSTATUS(status))
os.unlink(path)
