package sys

import "testing"

func TestCPUList(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{1, "0"}, {2, "0-1"}, {8, "0-7"}, {0, "0"}} {
		if got := cpuList(c.n); got != c.want {
			t.Errorf("cpuList(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
