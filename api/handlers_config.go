package api

import (
	"net/http"

	"github.com/go-dsynth/dsynth/spec"
)

// redactProfile copies p without secrets: environment values read from
// the host, and variables whose names look like secrets.
func redactProfile(p *spec.Profile) spec.Profile {
	c := *p
	c.MakeConf = redactMap(p.MakeConf, false)
	c.EnvRead = redactMap(p.EnvRead, true)
	c.Environment.Env = redactMap(p.Environment.Env, false)
	c.Ports = map[string]spec.PortSettings{}
	for k, v := range p.Ports {
		v.MakeEnv = redactMap(v.MakeEnv, false)
		c.Ports[k] = v
	}
	return c
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request, _ params) error {
	var out []spec.Profile
	for _, name := range s.order {
		out = append(out, redactProfile(s.profiles[name].profile()))
	}
	s.writeData(w, r, http.StatusOK, map[string]any{"profiles": out, "metrics_public": s.cfg.MetricsPublic,
		"rate_limit": map[string]any{"per_second": float64(s.cfg.Rate), "burst": s.cfg.Burst}})
	return nil
}

func (s *Server) getProfiles(w http.ResponseWriter, r *http.Request, _ params) error {
	type prof struct {
		Name      string   `json:"name"`
		File      string   `json:"file"`
		BuildBase string   `json:"build_base"`
		Records   string   `json:"records"`
		Targets   []string `json:"targets"`
		Workers   int      `json:"workers"`
		Default   bool     `json:"default"`
	}
	var out []prof
	for i, name := range s.order {
		p := s.profiles[name].profile()
		out = append(out, prof{p.Name, p.File, p.BuildBase, p.Records, p.Targets, p.Workers.Count, i == 0})
	}
	s.writeData(w, r, http.StatusOK, out)
	return nil
}
