package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// Metrics are leadflow's Prometheus metrics, on a registry of their own.
type Metrics struct {
	reg            *prometheus.Registry
	ingestMessages *prometheus.CounterVec
	ingestLatency  *prometheus.HistogramVec
	httpLatency    *prometheus.HistogramVec
}

// NewMetrics registers the metrics; db (may be nil) feeds the queue depth.
func NewMetrics(db *store.DB) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.ingestMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadflow_ingest_messages_total",
		Help: "Segment messages received, by call and result (ok, rejected, error).",
	}, []string{"call", "result"})
	m.ingestLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "leadflow_ingest_request_duration_seconds",
		Help:    "Time to decode, store, score and commit one ingestion request.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"call"})
	m.httpLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "leadflow_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern and status code.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "code"})
	m.reg.MustRegister(m.ingestMessages, m.ingestLatency, m.httpLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "leadflow_jobs_queue_depth",
			Help: "Jobs waiting to run (available, scheduled or retryable).",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := db.QueueDepth(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	}
	return m
}

// ObserveIngest is the segment handler's metrics hook.
func (m *Metrics) ObserveIngest(call string, n int, d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "rejected"
		if leadflow.ErrorCode(err) == leadflow.EINTERNAL || leadflow.ErrorCode(err) == leadflow.EUNAVAILABLE {
			result = "error"
		}
	}
	if n == 0 {
		n = 1
	}
	m.ingestMessages.WithLabelValues(call, result).Add(float64(n))
	m.ingestLatency.WithLabelValues(call).Observe(d.Seconds())
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument records latency per route pattern (never per raw path, so
// ids do not explode the label set).
func (m *Metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.httpLatency.WithLabelValues(route, strconv.Itoa(rec.code)).Observe(time.Since(start).Seconds())
	})
}
