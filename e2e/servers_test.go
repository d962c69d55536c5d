package e2e

import "testing"

// Servers from Debian's packages, unmodified, serving clients on the
// sandbox's loopback: nginx (a master that spawns workers over
// socketpairs with signal-driven I/O, epoll, sendfile) fetched with
// python's urllib, and redis (epoll, threads, its own client) driven by
// redis-cli. Each server is stopped the way its operators stop it and
// its exit status checked.
func TestServers(t *testing.T) {
	// wait polls until the server answers (its first tries may fail
	// while it starts; their output is discarded).
	const fetch = `python3 -c 'import urllib.request as u; r = u.urlopen("http://127.0.0.1/", timeout=10); b = r.read(); print(r.status, len(b), b"Welcome to nginx" in b)'`
	runDebCases(t, []debCase{
		{name: "nginx", argv: bash(`nginx -g 'daemon off;' & pid=$!
for i in $(seq 100); do ` + fetch + ` >/dev/null 2>&1 && break; sleep 0.1; done
` + fetch + `
` + fetch + `
ps -o user=,comm= -C nginx | sort
nginx -s quit 2>&1 | sed -E 's/^[0-9/]+ [0-9:]+ //; s/[0-9]+#[0-9]+/PID#TID/'
wait $pid; echo "nginx exit $?"`)},
		{name: "redis", argv: bash(`redis-server --port 6379 --save '' --appendonly no --daemonize no --logfile '' >/dev/null & pid=$!
for i in $(seq 100); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli ping; redis-cli set greeting hello; redis-cli get greeting
redis-cli rpush l a b c; redis-cli lrange l 0 -1; redis-cli incrby n 41; redis-cli incr n
redis-cli shutdown nosave; wait $pid; echo "redis exit $?"`)},
	})
}
