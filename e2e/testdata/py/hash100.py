# hashlib over 100 MB: from memory and from /dev/zero via a file.
import hashlib

h = hashlib.sha256()
chunk = bytes(range(256)) * 4096  # 1 MiB
for i in range(100):
    h.update(chunk)
print("sha256 100 MiB pattern", h.hexdigest())
m = hashlib.md5()
with open("/dev/zero", "rb") as f:
    for i in range(100):
        m.update(f.read(1 << 20))
print("md5 100 MiB zeros", m.hexdigest())
with open("/tmp/big", "wb") as f:
    for i in range(25):
        f.write(chunk * 4)
with open("/tmp/big", "rb") as f:
    print("sha1 file", hashlib.file_digest(f, "sha1").hexdigest())
