package ocitests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestCRI drives containerd's CRI the way the kubelet does, with the
// runtime handler "pangolin" (what a RuntimeClass names): a pod sandbox,
// a container in it, exec, logs, stop and removal. Pods use the node's
// network namespace (no CNI plugin here); each container, the pod's
// sandbox container included, is its own Pangolin sandbox.
func TestCRI(t *testing.T) {
	d := startDaemons(t)
	start := time.Now()
	defer func() { t.Logf("CRI flow took %v", time.Since(start).Round(time.Millisecond)) }()
	conn, err := grpc.NewClient("unix://"+d.containerd, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rt := runtimeapi.NewRuntimeServiceClient(conn)
	img := runtimeapi.NewImageServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	v, err := rt.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	t.Logf("runtime %s %s, CRI %s", v.RuntimeName, v.RuntimeVersion, v.RuntimeApiVersion)
	image := "docker.io/library/" + d.image
	if st, err := img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: image}}); err != nil || st.Image == nil {
		t.Fatalf("image %s not in containerd's k8s.io namespace: %v", image, err)
	}

	logDir := t.TempDir()
	uid := strings.ReplaceAll(t.Name(), "/", "-") + "-" + time.Now().Format("150405.000000")
	podCfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "pangolin-e2e", Namespace: "default", Uid: uid},
		Hostname:     "pangolin-pod",
		LogDirectory: logDir,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE},
			},
		},
	}
	pod, err := rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: podCfg, RuntimeHandler: "pangolin"})
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	podID := pod.PodSandboxId
	defer func() {
		rt.StopPodSandbox(context.Background(), &runtimeapi.StopPodSandboxRequest{PodSandboxId: podID})
		rt.RemovePodSandbox(context.Background(), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: podID})
	}()
	ps, err := rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: podID})
	if err != nil || ps.Status.State != runtimeapi.PodSandboxState_SANDBOX_READY || ps.Status.RuntimeHandler != "pangolin" {
		t.Fatalf("PodSandboxStatus: %v %v", ps, err)
	}

	cc, err := rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId: podID,
		Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
			Image:    &runtimeapi.ImageSpec{Image: image},
			Command:  []string{"bash", "-c", "echo hello from cri; trap 'echo stopping; exit 0' TERM; while true; do sleep 0.1; done"},
			Envs:     []*runtimeapi.KeyValue{{Key: "GREETING", Value: []byte("hi")}},
			LogPath:  "app.log",
		},
		SandboxConfig: podCfg,
	})
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	cid := cc.ContainerId
	if _, err := rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: cid}); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	cs, err := rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: cid})
	if err != nil || cs.Status.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("ContainerStatus: %v %v", cs, err)
	}

	ex, err := rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: cid, Cmd: []string{"sh", "-c", "echo exec $GREETING; hostname; exit 3"}, Timeout: 30})
	if err != nil {
		t.Fatalf("ExecSync: %v", err)
	}
	// A pod on the node's network has the node's hostname.
	node, _ := os.Hostname()
	if string(ex.Stdout) != "exec hi\n"+node+"\n" || ex.ExitCode != 3 {
		t.Errorf("ExecSync: stdout %q stderr %q exit %d", ex.Stdout, ex.Stderr, ex.ExitCode)
	}

	// Container logs, in the CRI format the kubelet reads
	// ("TIMESTAMP stdout F LINE").
	logFile := filepath.Join(logDir, "app.log")
	waitFor(t, 20*time.Second, "container log", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), " stdout F hello from cri")
	})

	if _, err := rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: cid, Timeout: 20}); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	cs, err = rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: cid})
	if err != nil || cs.Status.State != runtimeapi.ContainerState_CONTAINER_EXITED || cs.Status.ExitCode != 0 {
		t.Errorf("after StopContainer: %v %v", cs, err)
	}
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), " stdout F stopping") {
		t.Errorf("the TERM trap did not run: log %q", b)
	}
	if _, err := rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: cid}); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	if _, err := rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatalf("StopPodSandbox: %v", err)
	}
	if _, err := rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
	// Nothing of the pod is left in the runtime's state.
	if ents, _ := os.ReadDir(filepath.Join(d.criRoot, "k8s.io")); len(ents) != 0 {
		var ids []string
		for _, e := range ents {
			ids = append(ids, e.Name())
		}
		for _, id := range ids {
			if strings.HasPrefix(id, podID) || strings.HasPrefix(id, cid) {
				t.Errorf("runtime state left behind: %s", id)
			}
		}
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
