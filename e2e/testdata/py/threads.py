# ThreadPoolExecutor with 8 workers: results in order, every worker used.
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

barrier = threading.Barrier(8)
names = set()
lock = threading.Lock()


def work(i):
    if i < 8:
        barrier.wait(timeout=30)  # all 8 workers run at once
    with lock:
        names.add(threading.current_thread().name)
    return hashlib.sha256(str(i).encode()).hexdigest()[:12]


with ThreadPoolExecutor(max_workers=8) as ex:
    out = list(ex.map(work, range(64)))
print(out[:4], out[-1])
print("workers", len(names))
