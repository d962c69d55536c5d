# os.fork + os.waitpid: exit statuses, signals, and copy-on-write memory.
import os
import signal

data = bytearray(b"parent" * 1000)
pid = os.fork()
if pid == 0:
    data[0:6] = b"child!"
    os._exit(7 if data.startswith(b"child!") else 1)
wpid, status = os.waitpid(pid, 0)
print("same pid:", wpid == pid, "exited:", os.WIFEXITED(status), "code:", os.WEXITSTATUS(status))
print("parent memory intact:", data.startswith(b"parent"))
pid = os.fork()
if pid == 0:
    os.kill(os.getpid(), signal.SIGKILL)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("signaled:", os.WIFSIGNALED(status), "sig:", os.WTERMSIG(status))
kids = []
for i in range(5):
    p = os.fork()
    if p == 0:
        os._exit(i)
    kids.append(p)
codes = sorted(os.WEXITSTATUS(os.waitpid(p, 0)[1]) for p in kids)
print("codes:", codes)
try:
    os.waitpid(-1, 0)
except ChildProcessError as e:
    print("no more children:", e.errno)
