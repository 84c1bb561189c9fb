package api

import (
	"net/http"
	"strings"
)

// params are the path parameters of a matched route.
type params map[string]string

// handlerFunc handles a matched route; a returned error becomes the error
// envelope.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p params) error

// route is one endpoint under /api/v1. Path is written as in the OpenAPI
// document; the parameter {origin} matches a port origin, which holds a
// slash (category/port or category/port@flavor), so that
// /packages/editors/vim/history routes to /packages/{origin}/history.
type route struct {
	method string
	path   string
	// role is the least role allowed (a record.Role*).
	role string
	// stream marks long-lived responses (SSE, WebSocket): no write
	// timeout, and the key may be passed as ?api_key= (browsers cannot set
	// headers on EventSource and WebSocket).
	stream bool
	// body is what the handler reads from the request body (limitBody
	// bounds it).
	body bodyKind
	h    handlerFunc
	segs []string
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match reports whether segs match the route's path and returns its
// parameters.
func (rt *route) match(segs []string) (params, bool) {
	var p params
	i := 0
	for _, ps := range rt.segs {
		if i >= len(segs) {
			return nil, false
		}
		if strings.HasPrefix(ps, "{") && strings.HasSuffix(ps, "}") {
			name := ps[1 : len(ps)-1]
			n := 1
			if name == "origin" {
				n = 2
			}
			if i+n > len(segs) {
				return nil, false
			}
			v := strings.Join(segs[i:i+n], "/")
			for _, s := range segs[i : i+n] {
				if s == "" || s == "." || s == ".." {
					return nil, false
				}
			}
			if p == nil {
				p = params{}
			}
			p[name] = v
			i += n
			continue
		}
		if segs[i] != ps {
			return nil, false
		}
		i++
	}
	if i != len(segs) {
		return nil, false
	}
	return p, true
}

// router finds the route of a path below /api/v1. It returns the route,
// its parameters, and whether the path exists with another method.
func (s *Server) findRoute(method, path string) (*route, params, bool) {
	segs := splitPath(path)
	other := false
	for i := range s.routes {
		rt := &s.routes[i]
		p, ok := rt.match(segs)
		if !ok {
			continue
		}
		if rt.method == method || (method == http.MethodHead && rt.method == http.MethodGet) {
			return rt, p, false
		}
		other = true
	}
	return nil, nil, other
}
