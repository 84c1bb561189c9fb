package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-dsynth/dsynth/record"
)

// Error codes of the error envelope.
const (
	CodeBadRequest       = "BAD_REQUEST"
	CodeUnauthorized     = "UNAUTHORIZED"
	CodeForbidden        = "FORBIDDEN"
	CodeNotFound         = "NOT_FOUND"
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	CodeRateLimited      = "RATE_LIMITED"
	CodeTooLarge         = "REQUEST_TOO_LARGE"
	CodeBuildNotFound    = "BUILD_NOT_FOUND"
	CodeBuildNotRunning  = "BUILD_NOT_RUNNING"
	CodePackageNotFound  = "PACKAGE_NOT_FOUND"
	CodeProfileNotFound  = "PROFILE_NOT_FOUND"
	CodePlanNotFound     = "PLAN_NOT_FOUND"
	CodeLogNotFound      = "LOG_NOT_FOUND"
	CodeArtifactNotFound = "ARTIFACT_NOT_FOUND"
	CodeWorkerNotFound   = "WORKER_NOT_FOUND"
	CodeQueueNotFound    = "QUEUE_ITEM_NOT_FOUND"
	CodePlanFailed       = "PLAN_FAILED"
	CodeStalePlan        = "STALE_PLAN"
	CodeConflict         = "CONFLICT"
	CodeRecordsBusy      = "RECORDS_BUSY"
	CodeInternal         = "INTERNAL_ERROR"
	CodeUnavailable      = "SHUTTING_DOWN"
)

// Meta is the meta object of every envelope.
type Meta struct {
	Timestamp time.Time `json:"timestamp"`
	Version   string    `json:"version"`
	RequestID string    `json:"request_id"`
	// Pagination, for list endpoints.
	Page    int `json:"page,omitempty"`
	PerPage int `json:"per_page,omitempty"`
	Total   int `json:"total,omitempty"`
}

// Envelope is the body of every JSON response.
type Envelope struct {
	Status string     `json:"status"`
	Data   any        `json:"data,omitempty"`
	Error  *ErrorBody `json:"error,omitempty"`
	Meta   Meta       `json:"meta"`
}

// ErrorBody describes a failed request.
type ErrorBody struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// apiError is an error with its HTTP status and code.
type apiError struct {
	status  int
	code    string
	msg     string
	details map[string]any
}

func (e *apiError) Error() string { return e.msg }

func errf(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, msg: msg}
}

func (e *apiError) with(k string, v any) *apiError {
	if e.details == nil {
		e.details = map[string]any{}
	}
	e.details[k] = v
	return e
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) meta(r *http.Request) Meta {
	return Meta{Timestamp: time.Now().UTC(), Version: s.cfg.Version, RequestID: requestID(r)}
}

// writeData writes a success envelope.
func (s *Server) writeData(w http.ResponseWriter, r *http.Request, status int, data any) {
	s.writeEnvelope(w, status, Envelope{Status: "success", Data: data, Meta: s.meta(r)})
}

// writePage writes a success envelope with pagination meta.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, data any, pg page, total int) {
	m := s.meta(r)
	m.Page, m.PerPage, m.Total = pg.page, pg.perPage, total
	s.writeEnvelope(w, http.StatusOK, Envelope{Status: "success", Data: data, Meta: m})
}

// writeErr maps err to an error envelope.
func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		switch {
		case errors.Is(err, record.ErrLocked):
			ae = errf(http.StatusServiceUnavailable, CodeRecordsBusy, "the records database is busy, try again")
		default:
			s.log.Error("request failed", "request_id", requestID(r), "path", r.URL.Path, "err", err)
			ae = errf(http.StatusInternalServerError, CodeInternal, excerptMessage(err.Error()))
		}
	}
	if ae.status == http.StatusTooManyRequests || ae.status == http.StatusServiceUnavailable {
		if _, ok := w.Header()["Retry-After"]; !ok {
			w.Header().Set("Retry-After", "1")
		}
	}
	msg := ae.msg
	if len(msg) > messageMax {
		// A backstop: messages quote their input through excerpt.
		msg = excerptMessage(msg)
	}
	d := ae.details
	if d == nil {
		d = map[string]any{}
	}
	s.writeEnvelope(w, ae.status, Envelope{Status: "error", Error: &ErrorBody{Code: ae.code, Message: msg, Details: d}, Meta: s.meta(r)})
}

func (s *Server) writeEnvelope(w http.ResponseWriter, status int, e Envelope) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(e)
}
