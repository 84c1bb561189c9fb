package api

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/go-dsynth/dsynth/execute"
)

// metrics are the Prometheus metrics of a server (its own registry, so
// that several servers can live in one process).
type metrics struct {
	reg      *prometheus.Registry
	handler  http.Handler
	ports    *prometheus.CounterVec
	runs     *prometheus.CounterVec
	duration prometheus.Histogram
	phases   *prometheus.HistogramVec
	queueLen prometheus.Gauge
	workers  *prometheus.GaugeVec

	mu         sync.Mutex
	phaseStart map[int]phaseMark // worker -> current phase
}

type phaseMark struct {
	name  string
	start time.Time
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), phaseStart: map[int]phaseMark{}}
	m.ports = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dsynth_port_builds_total",
		Help: "Ports finished by builds of this server, by outcome (built, failed, skipped, ignored, up-to-date)."}, []string{"outcome"})
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dsynth_builds_total",
		Help: "Builds (runs) finished by this server, by outcome (success, failed, interrupted, error)."}, []string{"outcome"})
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dsynth_port_build_duration_seconds",
		Help: "Wall time of port builds (successful or failed).", Buckets: prometheus.ExponentialBuckets(0.1, 2.5, 14)})
	m.phases = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dsynth_phase_duration_seconds",
		Help: "Wall time of build phases.", Buckets: prometheus.ExponentialBuckets(0.01, 3, 14)}, []string{"phase"})
	m.queueLen = prometheus.NewGauge(prometheus.GaugeOpts{Name: "dsynth_queue_length", Help: "Builds waiting in the queue."})
	m.workers = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dsynth_workers",
		Help: "Workers of running builds by state (busy, idle, paused)."}, []string{"state"})
	for _, o := range []string{"built", "failed", "skipped", "ignored", "up-to-date"} {
		m.ports.WithLabelValues(o)
	}
	for _, st := range []string{"busy", "idle", "paused"} {
		m.workers.WithLabelValues(st)
	}
	m.reg.MustRegister(m.ports, m.runs, m.duration, m.phases, m.queueLen, m.workers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
	return m
}

func (m *metrics) setWorkers(busy, idle, paused int) {
	m.workers.WithLabelValues("busy").Set(float64(busy))
	m.workers.WithLabelValues("idle").Set(float64(idle))
	m.workers.WithLabelValues("paused").Set(float64(paused))
}

// endPhase observes the phase worker w was in.
func (m *metrics) endPhase(w int, at time.Time) {
	if pm, ok := m.phaseStart[w]; ok {
		m.phases.WithLabelValues(pm.name).Observe(at.Sub(pm.start).Seconds())
		delete(m.phaseStart, w)
	}
}

func (m *metrics) observe(b *activeBuild, e execute.Event, busy int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch e.Kind {
	case execute.EventPhase:
		m.endPhase(e.Worker, e.Time)
		m.phaseStart[e.Worker] = phaseMark{e.Phase, e.Time}
	case execute.EventBuilt, execute.EventFailed:
		m.endPhase(e.Worker, e.Time)
		if e.Duration > 0 {
			m.duration.Observe(e.Duration.Seconds())
		}
		m.ports.WithLabelValues(e.Kind).Inc()
	case execute.EventSkipped, execute.EventIgnored, execute.EventUpToDate:
		m.ports.WithLabelValues(e.Kind).Inc()
	case execute.EventRunEnd:
		m.runs.WithLabelValues(e.Reason).Inc()
	}
	paused := 0
	for w := 0; w < b.workers; w++ {
		if b.gate.Paused(w) {
			paused++
		}
	}
	m.setWorkers(busy, max(0, b.workers-busy), paused)
}
