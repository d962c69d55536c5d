package cgroup

import "testing"

func TestPath(t *testing.T) {
	for _, tc := range []struct {
		in      string
		systemd bool
		want    string
	}{
		{"", false, "/pangolin/c1"},
		{"/docker/abc", false, "/docker/abc"},
		{"docker/abc", false, "/docker/abc"},
		{"system.slice:docker:abc", true, "/system.slice/docker-abc.scope"},
		{":cri-containerd:abc", true, "/system.slice/cri-containerd-abc.scope"},
		{"kubepods.slice:cri-containerd:abc", false, "/kubepods.slice/cri-containerd-abc.scope"},
	} {
		if got := Path(tc.in, "c1", tc.systemd); got != tc.want {
			t.Errorf("Path(%q, %v) = %q, want %q", tc.in, tc.systemd, got, tc.want)
		}
	}
}

func TestFromDirs(t *testing.T) {
	cg := FromDirs([]string{"/sys/fs/cgroup/memory/x", "/sys/fs/cgroup/freezer/x", "/sys/fs/cgroup/x"})
	if cg.Dirs["memory"] != "/sys/fs/cgroup/memory/x" || cg.Dirs["freezer"] != "/sys/fs/cgroup/freezer/x" || cg.Dirs[""] != "/sys/fs/cgroup/x" {
		t.Fatalf("%+v", cg.Dirs)
	}
}
