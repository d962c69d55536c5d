# An alarm signal handler interrupts a sleep; signal.pause and setitimer.
import signal
import time

hits = []


def on_alarm(sig, frame):
    hits.append(sig)
    raise TimeoutError("alarm")


signal.signal(signal.SIGALRM, on_alarm)
signal.alarm(1)
try:
    time.sleep(10)
    print("slept through")
except TimeoutError as e:
    print("interrupted by", e, hits == [signal.SIGALRM])
print("alarm pending after:", signal.alarm(0))
signal.signal(signal.SIGALRM, lambda s, f: hits.append(s))
signal.setitimer(signal.ITIMER_REAL, 0.05)
signal.pause()
print("pause returned, hits", len(hits))
