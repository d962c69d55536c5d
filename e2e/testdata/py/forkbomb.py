# Fork until the process limit (RLIMIT_NPROC, set by the caller with
# ulimit -u) stops us with EAGAIN; then clean up. Root is exempt from
# RLIMIT_NPROC, so the script first becomes nobody (its supplementary
# groups do not matter to the limit).
import errno
import os
import resource
import signal

os.setgid(65534)
os.setuid(65534)
print("uid", os.getuid(), os.geteuid())

soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
print("limit", soft)
kids = []
err = None
while len(kids) < 10000:
    try:
        pid = os.fork()
    except OSError as e:
        err = e.errno
        break
    if pid == 0:
        signal.pause()
        os._exit(0)
    kids.append(pid)
print("stopped by", errno.errorcode.get(err, err))
print("forked between limit-10 and limit:", soft - 10 <= len(kids) < soft)
for p in kids:
    os.kill(p, signal.SIGKILL)
for p in kids:
    os.waitpid(p, 0)
print("reaped all")
pid = os.fork()
if pid == 0:
    os._exit(3)
print("fork works again:", os.WEXITSTATUS(os.waitpid(pid, 0)[1]) == 3)
