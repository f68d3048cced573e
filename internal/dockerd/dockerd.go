package dockerd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Start makes sure the docker CLI reaches a daemon for the rest of t
// (setting DOCKER_HOST when it starts one), or skips t.
func Start(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker CLI: install Debian's docker.io to run the Docker tests")
	}
	if reachable() {
		return
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		t.Skip("no Docker daemon and no dockerd to start: install Debian's docker.io to run the Docker tests")
	}
	if os.Geteuid() != 0 {
		t.Skip("no Docker daemon, and only root can start dockerd")
	}
	// Not t.TempDir: a unix socket's path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "docker.sock")
	cmd := exec.Command(dockerd, "--host", "unix://"+sock, "--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"), "--pidfile", filepath.Join(dir, "docker.pid"),
		"--bridge", "none", "--ip-forward=false")
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Skipf("could not start dockerd: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second): // wall-clock: a daemon stopping
			cmd.Process.Kill()
			<-exited
		}
		os.RemoveAll(dir)
	})
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	deadline := time.Now().Add(60 * time.Second) // wall-clock: a daemon starting
	for !reachable() {
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Skipf("dockerd exited at start; it said:\n%s", tail(log, 2000))
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Skipf("dockerd did not answer within 60 s; it said:\n%s", tail(log, 2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// reachable reports whether the docker CLI reaches a daemon.
func reachable() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // wall-clock: a daemon's socket
	defer cancel()
	return exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Run() == nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
