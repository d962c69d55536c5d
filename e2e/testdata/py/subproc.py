# subprocess.run with pipes: stdin, stdout and stderr pipes, exit codes.
import subprocess

r = subprocess.run(["sort", "-r"], input="b\na\nc\n", capture_output=True, text=True)
print(repr(r.stdout), r.returncode)
r = subprocess.run(["sh", "-c", "echo out; echo err >&2; exit 3"], capture_output=True, text=True)
print(repr(r.stdout), repr(r.stderr), r.returncode)
p1 = subprocess.Popen(["printf", "x\\ny\\nx\\n"], stdout=subprocess.PIPE)
p2 = subprocess.Popen(["uniq", "-c"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
data = p1.stdout.read()
out, _ = p2.communicate(data.decode())
p1.wait()
print(repr(out), p1.returncode, p2.returncode)
print(subprocess.check_output("echo $((6*7))", shell=True, text=True).strip())
