package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// promServer is a Prometheus server, run from Debian's prometheus package
// when it is installed, that scrapes every node's /metrics.
type promServer struct {
	dir  string // DIR/prometheus: config, targets and the time-series database
	url  string // "" when prometheus is not installed
	cmd  *exec.Cmd
	done chan struct{}
}

// promConfig scrapes the nodes listed in targets.json, which the supervisor
// rewrites whenever a node starts on a new port; Prometheus rereads it.
const promConfig = `global:
  scrape_interval: 2s
  evaluation_interval: 2s
scrape_configs:
  - job_name: chaind
    file_sd_configs:
      - files: [targets.json]
        refresh_interval: 2s
`

// startPrometheus writes the scrape configuration and starts prometheus on
// a free loopback port when the binary is installed.
func (s *Supervisor) startPrometheus() error {
	p := &promServer{dir: filepath.Join(s.opts.Dir, "prometheus")}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, "prometheus.yml"), []byte(promConfig), 0o644); err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	s.prom = p
	if err := s.writeTargets(); err != nil {
		return err
	}
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		s.log.Warn("prometheus is not installed (apt-get install prometheus); wrote its configuration only", "dir", p.dir)
		return nil
	}
	ln, err := listenLoopback()
	if err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(p.dir, "prometheus.log"))
	if err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	defer logf.Close()
	p.cmd = exec.Command(bin, "--config.file", filepath.Join(p.dir, "prometheus.yml"), "--storage.tsdb.path", filepath.Join(p.dir, "data"),
		"--web.listen-address", addr)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	p.done = make(chan struct{})
	go func() { p.cmd.Wait(); close(p.done) }()
	p.url = "http://" + addr
	s.log.Info("Prometheus started", "url", p.url, "pid", p.cmd.Process.Pid)
	return nil
}

// promTarget is one entry of a Prometheus file_sd targets file.
type promTarget struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// writeTargets lists every live node's RPC host:port for Prometheus.
func (s *Supervisor) writeTargets() error {
	if s.prom == nil {
		return nil
	}
	targets := []promTarget{}
	for _, n := range s.State().Nodes {
		u, err := url.Parse(n.RPC)
		if n.RPC == "" || !n.Alive || err != nil {
			continue
		}
		targets = append(targets, promTarget{Targets: []string{u.Host}, Labels: map[string]string{"node": strconv.Itoa(n.Index)}})
	}
	data, err := json.MarshalIndent(targets, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(s.prom.dir, "targets.json")
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		return fmt.Errorf("prometheus targets: %w", err)
	}
	return os.Rename(path+".tmp", path)
}

// stopPrometheus stops the server: SIGTERM, then SIGKILL after 10 s.
func (s *Supervisor) stopPrometheus() {
	if s.prom == nil || s.prom.cmd == nil {
		return
	}
	s.prom.cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-s.prom.done:
	case <-ctx.Done():
		s.prom.cmd.Process.Kill()
		<-s.prom.done
	}
}

// PrometheusURL is the URL of the testnet's Prometheus server, or an error
// saying why there is none.
func (s *Supervisor) PrometheusURL() (string, error) {
	switch {
	case s.prom == nil:
		return "", errors.New("the testnet was started without --prometheus")
	case s.prom.url == "":
		return "", fmt.Errorf("prometheus is not installed (apt-get install prometheus); its configuration is in %s", s.prom.dir)
	}
	return s.prom.url, nil
}
