package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

// Prefix is the path prefix of every JSON endpoint.
const Prefix = "/api/v1"

// Config configures a Server.
type Config struct {
	// Profiles are the served profiles (names must be unique); the first
	// is the default of requests that name none.
	Profiles []*spec.Loaded
	// Version is reported in every envelope's meta.
	Version string
	// MetricsPublic serves /metrics without an API key.
	MetricsPublic bool
	// Rate and Burst limit requests per API key (default 20/s, burst 40).
	Rate  rate.Limit
	Burst int
	// NewIsolator returns the isolator of a profile's builds (default:
	// real slots, execute.SlotIsolator).
	NewIsolator func(p *plan.Plan) execute.Isolator
	// Workers overrides the profiles' worker counts when > 0.
	Workers int
	// Log receives request and build logs (default: discard).
	Log *slog.Logger
	// LoadInterval is the period of system.load events (default 5s).
	LoadInterval time.Duration
	// HeaderTimeout bounds the time to read a request's headers (default
	// 5s); slow clients are disconnected.
	HeaderTimeout time.Duration
}

// Server is the dsynth HTTP API. Create it with New, serve it with Serve
// or use it as an http.Handler, stop it with Shutdown.
type Server struct {
	cfg      Config
	log      *slog.Logger
	routes   []route
	profiles map[string]*profileState
	order    []string
	hub      *hub
	metrics  *metrics
	plans    *planStore

	limMu    sync.Mutex
	limiters map[string]*rate.Limiter

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks the profiles, creates their records databases and returns a
// server. Builds started through it run until Shutdown.
func New(cfg Config) (*Server, error) {
	if len(cfg.Profiles) == 0 {
		return nil, errors.New("serve: no profile")
	}
	if cfg.Rate == 0 {
		cfg.Rate, cfg.Burst = 20, 40
	}
	if cfg.Burst <= 0 {
		cfg.Burst = max(1, int(math.Ceil(float64(cfg.Rate))))
	}
	if cfg.NewIsolator == nil {
		cfg.NewIsolator = func(p *plan.Plan) execute.Isolator { return execute.SlotIsolator(execute.SlotLayout(p)) }
	}
	if cfg.LoadInterval == 0 {
		cfg.LoadInterval = 5 * time.Second
	}
	if cfg.HeaderTimeout == 0 {
		cfg.HeaderTimeout = 5 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Log, profiles: map[string]*profileState{},
		limiters: map[string]*rate.Limiter{}, hub: newHub(), plans: newPlanStore(8)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.metrics = newMetrics(s)
	for _, l := range cfg.Profiles {
		p := l.Profile
		if _, dup := s.profiles[p.Name]; dup {
			return nil, fmt.Errorf("serve: profile %q given twice", p.Name)
		}
		if p.Records == "" {
			return nil, fmt.Errorf("serve: profile %q has no records database", p.Name)
		}
		// Create the database (and its buckets) so that requests can
		// open it read-only.
		db, err := record.Open(p.Records, record.Options{Timeout: 10 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("serve: profile %s: %w", p.Name, err)
		}
		db.Close()
		ps := &profileState{s: s, name: p.Name, loaded: l, wake: make(chan struct{}, 1)}
		s.profiles[p.Name] = ps
		s.order = append(s.order, p.Name)
	}
	s.routes = s.buildRoutes()
	for _, name := range s.order {
		ps := s.profiles[name]
		s.wg.Add(1)
		go func() { defer s.wg.Done(); ps.runQueue(s.ctx) }()
		s.wg.Add(1)
		go func() { defer s.wg.Done(); ps.follow(s.ctx) }()
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.loadLoop(s.ctx) }()
	return s, nil
}

// HTTPServer returns an http.Server for s with timeouts on every
// connection (streams lift the write timeout for themselves).
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: s.cfg.HeaderTimeout,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
}

// Serve serves on ln until ctx ends, then shuts down gracefully: running
// builds are interrupted and recorded as interrupted, as apply does on
// SIGINT. certFile and keyFile enable TLS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	hs := s.HTTPServer(ln.Addr().String())
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- hs.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		s.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s.Shutdown(sctx)
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		hs.Close()
	}
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// Shutdown interrupts running builds, drops queued ones and closes every
// event stream, then waits for the builds to be recorded.
func (s *Server) Shutdown(ctx context.Context) {
	s.cancel()
	s.hub.close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyAPIKey
)

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(keyRequestID).(string)
	return id
}

// caller is the API key of the request (nil for public paths).
func caller(r *http.Request) *record.APIKey {
	k, _ := r.Context().Value(keyAPIKey).(*record.APIKey)
	return k
}

// statusWriter records the response status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(c int) {
	if w.status == 0 {
		w.status = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP routes, authenticates, rate-limits and logs every request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := newRequestID()
	r = r.WithContext(context.WithValue(r.Context(), keyRequestID, id))
	w.Header().Set("X-Request-ID", id)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		// The path only: query strings may carry an api_key.
		attrs := []any{"request_id", id, "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration", time.Since(start).Round(time.Microsecond)}
		if k := caller(r); k != nil {
			attrs = append(attrs, "key", k.Name)
		}
		s.log.Info("request", attrs...)
	}()
	s.serve(sw, r)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/metrics":
		if !s.cfg.MetricsPublic {
			r2, err := s.authenticate(w, r, &route{role: record.RoleRead})
			if err != nil {
				s.writeErr(w, r, err)
				return
			}
			r = r2
		}
		if err := limitBody(w, r, nil); err != nil {
			s.writeErr(w, r, err)
			return
		}
		s.metrics.handler.ServeHTTP(w, r)
		return
	case path == Prefix || strings.HasPrefix(path, Prefix+"/"):
	default:
		if err := limitBody(w, r, nil); err != nil {
			s.writeErr(w, r, err)
			return
		}
		s.serveDashboard(w, r)
		return
	}
	rt, p, other := s.findRoute(r.Method, strings.TrimPrefix(path, Prefix))
	if rt == nil {
		if other {
			s.writeErr(w, r, errf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, excerpt(r.Method)+" is not allowed on "+excerpt(path)))
			return
		}
		s.writeErr(w, r, errf(http.StatusNotFound, CodeNotFound, "no endpoint "+excerpt(path)))
		return
	}
	if rt.role != "" {
		r2, err := s.authenticate(w, r, rt)
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		r = r2
	}
	if err := limitBody(w, r, rt); err != nil {
		s.writeErr(w, r, err)
		return
	}
	if rt.stream {
		rc := http.NewResponseController(w)
		rc.SetWriteDeadline(time.Time{})
		rc.SetReadDeadline(time.Time{})
	}
	if err := rt.h(w, r, p); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = tooLarge(mbe.Limit)
		}
		s.writeErr(w, r, err)
	}
}

// authenticate checks the request's API key, its role and its rate.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, rt *route) (*http.Request, error) {
	key := r.Header.Get("X-API-Key")
	if key == "" && rt.stream {
		key = r.URL.Query().Get("api_key")
	}
	if key == "" {
		w.Header().Set("WWW-Authenticate", `APIKey header="X-API-Key"`)
		return r, errf(http.StatusUnauthorized, CodeUnauthorized, "an API key is required (X-API-Key header)")
	}
	k, err := s.verifyKey(key)
	if err != nil {
		return r, err
	}
	if lim := s.limiter(k.ID); !lim.Allow() {
		res := lim.Reserve()
		d := res.Delay()
		res.Cancel()
		secs := max(1, int(math.Ceil(d.Seconds())))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return r, errf(http.StatusTooManyRequests, CodeRateLimited, "rate limit exceeded for this API key").with("retry_after_s", secs)
	}
	r = r.WithContext(context.WithValue(r.Context(), keyAPIKey, k))
	if record.RoleRank(k.Role) < record.RoleRank(rt.role) {
		return r, errf(http.StatusForbidden, CodeForbidden, fmt.Sprintf("this API key has role %s; %s %s needs %s", k.Role, rt.method, Prefix+rt.path, rt.role))
	}
	return r, nil
}

// verifyKey looks key up in every served records database (keys are
// read on each request, so that a revoked key fails at once).
func (s *Server) verifyKey(key string) (*record.APIKey, error) {
	seen := map[string]bool{}
	var lastErr error
	for _, name := range s.order {
		path := s.profiles[name].profile().Records
		if seen[path] {
			continue
		}
		seen[path] = true
		db, err := openRO(path)
		if err != nil {
			lastErr = err
			continue
		}
		k, err := db.VerifyAPIKey(key)
		db.Close()
		if err == nil {
			return k, nil
		}
		if !errors.Is(err, record.ErrBadAPIKey) {
			lastErr = err
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, errf(http.StatusUnauthorized, CodeUnauthorized, "invalid or revoked API key")
}

func (s *Server) limiter(id string) *rate.Limiter {
	s.limMu.Lock()
	defer s.limMu.Unlock()
	l := s.limiters[id]
	if l == nil {
		l = rate.NewLimiter(s.cfg.Rate, s.cfg.Burst)
		s.limiters[id] = l
	}
	return l
}

// openRO opens a records database read-only for one request. Requests
// never keep it open: apply opens it for each write batch.
func openRO(path string) (*record.DB, error) {
	return record.Open(path, record.Options{ReadOnly: true, Timeout: 10 * time.Second})
}

// openRW opens a records database for writing.
func openRW(path string) (*record.DB, error) {
	return record.Open(path, record.Options{Timeout: 10 * time.Second})
}

// withDB runs fn on profile ps's records database opened read-only. A
// damaged file is an error (record.Guard), not a crash of the server.
func withDB(ps *profileState, fn func(db *record.DB) error) error {
	return record.Guard(func() error {
		db, err := openRO(ps.profile().Records)
		if err != nil {
			return err
		}
		defer db.Close()
		return fn(db)
	})
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
