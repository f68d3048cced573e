package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config says where the gauges read their values at scrape time. HeadHeight,
// Peers and MempoolPending are required; Hashrate (PoW) and Finalized (PoS)
// are optional and their gauges are absent when nil.
type Config struct {
	HeadHeight     func() uint64
	Peers          func() int
	MempoolPending func() int
	Hashrate       func() float64        // hashes per second of the local miner
	Finalized      func() (uint64, bool) // height of the last finalized block; false: none yet
	// Engine (optional) are the consensus engine's own metrics (BFT's
	// rounds per height and commit latency).
	Engine []prometheus.Collector
}

// Metrics is one node's registry.
type Metrics struct {
	reg        *prometheus.Registry
	reorgs     prometheus.Counter
	reorgDepth prometheus.Histogram
	rpc        *prometheus.HistogramVec
}

// New registers chaind's metrics and the Go runtime's on a registry of
// their own (not the global one, so several nodes can run in one process).
func New(cfg Config) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		reorgs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chaind_reorgs_total", Help: "Head changes that removed at least one canonical block.",
		}),
		reorgDepth: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chaind_reorg_depth", Help: "Canonical blocks removed by each reorg.",
			Buckets: []float64{1, 2, 3, 4, 6, 8, 12, 16, 32, 64},
		}),
		rpc: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chaind_rpc_request_duration_seconds", Help: "Time to answer one JSON-RPC call, by method.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9), // 100 µs to 6.5 s
		}, []string{"method"}),
	}
	m.reg.MustRegister(m.reorgs, m.reorgDepth, m.rpc,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		gauge("chaind_head_height", "Height of the canonical head.", func() float64 { return float64(cfg.HeadHeight()) }),
		gauge("chaind_peers", "Connected peers.", func() float64 { return float64(cfg.Peers()) }),
		gauge("chaind_mempool_pending", "Executable transactions in the mempool.", func() float64 { return float64(cfg.MempoolPending()) }),
	)
	m.reg.MustRegister(cfg.Engine...)
	if cfg.Hashrate != nil {
		m.reg.MustRegister(gauge("chaind_hashrate", "Hashes per second of the local miner (0 when it is stopped).", cfg.Hashrate))
	}
	if cfg.Finalized != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chaind_finalized_height", Help: "Height of the last finalized block (0 before the first).",
		}, func() float64 {
			h, _ := cfg.Finalized()
			return float64(h)
		}))
	}
	return m
}

func gauge(name, help string, f func() float64) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
}

// Reorg records a head change that removed depth canonical blocks; a
// depth of 0 (the head only grew) is not a reorg and is ignored.
func (m *Metrics) Reorg(depth int) {
	if depth <= 0 {
		return
	}
	m.reorgs.Inc()
	m.reorgDepth.Observe(float64(depth))
}

// ObserveRPC records one JSON-RPC call. Only registered methods should be
// passed, so that a client cannot grow the label set.
func (m *Metrics) ObserveRPC(method string, d time.Duration) {
	m.rpc.WithLabelValues(method).Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
