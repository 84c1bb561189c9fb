package api

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed dashboard
var dashboardFiles embed.FS

var dashboardFS, _ = fs.Sub(dashboardFiles, "dashboard")

// serveDashboard serves the web dashboard's static files (no key needed:
// the page asks for one and sends it with every API call).
func (s *Server) serveDashboard(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.writeErr(w, r, errf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, excerpt(r.Method)+" is not allowed on "+excerpt(r.URL.Path)))
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
	w.Header().Set("X-Frame-Options", "DENY")
	http.FileServerFS(dashboardFS).ServeHTTP(w, r)
}
