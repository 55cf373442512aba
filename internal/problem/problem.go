// Package problem turns leadflow errors into RFC 9457 problem+json responses.
// It is the one place where an error code becomes an HTTP status.
package problem

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/leadflow/leadflow"
)

// Details is the RFC 9457 body. Errors lists located problems (a JSON
// pointer, a CSV line, a YAML line:column) when there are several.
type Details struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Detail   string            `json:"detail,omitempty"`
	Instance string            `json:"instance,omitempty"`
	Location string            `json:"location,omitempty"`
	Errors   []leadflow.Detail `json:"errors,omitempty"`
}

// Status maps an error code to an HTTP status.
func Status(code string) int {
	switch code {
	case leadflow.EINVALID:
		return http.StatusBadRequest
	case leadflow.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case leadflow.EFORBIDDEN:
		return http.StatusForbidden
	case leadflow.ENOTFOUND:
		return http.StatusNotFound
	case leadflow.ECONFLICT:
		return http.StatusConflict
	case leadflow.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case leadflow.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case leadflow.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// From builds the problem body for err. Internal errors are logged with
// their cause and shown as "internal error".
func From(r *http.Request, err error, logger *slog.Logger) Details {
	code := leadflow.ErrorCode(err)
	status := Status(code)
	p := Details{Type: "about:blank", Title: http.StatusText(status), Status: status}
	if r != nil {
		p.Instance = r.URL.Path
	}
	var e *leadflow.Error
	if code == leadflow.EINTERNAL || !errors.As(err, &e) {
		if logger != nil {
			logger.Error("internal error", "err", err, "path", p.Instance)
		}
		p.Detail = "internal error"
		return p
	}
	p.Detail = e.Message
	p.Location = e.Where
	p.Errors = e.Details
	return p
}

// Write sends err as problem+json.
func Write(w http.ResponseWriter, r *http.Request, err error, logger *slog.Logger) {
	WriteDetails(w, From(r, err, logger))
}

// WriteDetails sends an already built problem.
func WriteDetails(w http.ResponseWriter, p Details) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
