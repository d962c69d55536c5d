# multiprocessing.Pool(4): map over worker processes, distinct pids.
import os
import time
from multiprocessing import Pool


def square(x):
    # Long enough that one worker cannot drain the queue before the
    # others have started, however slow process creation is.
    time.sleep(0.05)
    return x * x, os.getpid()


if __name__ == "__main__":
    with Pool(4) as p:
        res = p.map(square, range(40), chunksize=1)
    print([r[0] for r in res])
    print("distinct workers >1:", len({r[1] for r in res}) > 1)
    print("parent not a worker:", os.getpid() not in {r[1] for r in res})
