package server

import (
	"net/http"

	"github.com/leadflow/leadflow/internal/problem"
	"github.com/leadflow/leadflow/internal/segment"
)

// routes registers every route of leadflow.
func (s *Server) routes() {
	// Liveness and metrics.
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.Handle("GET /metrics", s.deps.Metrics.Handler())

	// Segment HTTP Tracking API compatible ingestion (write key auth).
	ingest := segment.NewHandler(s.deps.Flow, segment.Options{
		Logger: s.log, Now: s.deps.Now, Observe: s.deps.Metrics.ObserveIngest,
	})
	s.mux.Handle("/v1/", ingest)

	// REST API (API key auth), documented at /api/v1/openapi.json.
	s.api.UseMiddleware(s.bearerAuth)
	s.registerLeads()
	s.registerModel()
	s.registerSLA()
	s.registerImport()
	s.registerKeys()
	s.registerUsers()
	s.registerSales()
	s.registerKPI()
	s.registerWebhooks()
	s.registerNurture()
	s.documentPerms()

	// Anything else under /api/ is a problem+json 404, not an HTML page.
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		problem.WriteDetails(w, problem.Details{Status: http.StatusNotFound, Instance: r.URL.Path,
			Detail: "no such endpoint: " + r.Method + " " + r.URL.Path + " (see /api/v1/openapi.json)"})
	})
	if s.deps.UI != nil {
		s.mux.Handle("/", s.deps.UI)
	} else {
		s.mux.HandleFunc("/{$}", s.handleRoot)
	}
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := s.deps.DB.Read.PingContext(r.Context()); err != nil {
		s.log.Error("healthz: database", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"unavailable","database":"unreachable"}`))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("leadflow " + s.deps.Version + "\n\n" +
		"Event ingestion (Segment-compatible): POST /v1/identify, /v1/track, /v1/page, /v1/group, /v1/alias, /v1/batch\n" +
		"REST API: /api/v1/… (OpenAPI: /api/v1/openapi.json)\n" +
		"Health: /healthz   Metrics: /metrics\n"))
}
