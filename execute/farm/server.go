package farm

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/dsynth/internal/fsutil"
)

// MaxPackageSize bounds an uploaded package.
const MaxPackageSize = 32 << 30

// Server is the controller's package server: build hosts fetch the
// packages a build installs by SHA-256, upload the package they built,
// stream the port log and report the phase. Every request carries the
// farm's bearer token.
type Server struct {
	PackagesDir string
	Token       string
	// StatusFile receives the hosts' state (HostsFile), "" none.
	StatusFile string

	mu     sync.Mutex
	pkgs   map[string]string // SHA-256 -> file
	builds map[string]*build // key -> build
	hosts  map[string]*HostStatus
}

type build struct {
	node     string
	logPath  string
	progress func(string)
}

// HostStatus is one build host as the controller saw it.
type HostStatus struct {
	Name       string            `json:"name"`
	ABI        string            `json:"abi"`
	LoadPerCPU float64           `json:"load_per_cpu"`
	Building   map[string]string `json:"building"` // node -> phase
	Built      int               `json:"built"`
	LastSeen   time.Time         `json:"last_seen"`
}

// HostsFileName is the farm's state file under the build base.
const HostsFileName = "dsynth.farm.json"

// HostsFile is the farm's state for the API: <build_base>/dsynth.farm.json.
type HostsFile struct {
	Updated time.Time     `json:"updated"`
	Hosts   []*HostStatus `json:"hosts"`
}

// StagingDir is where uploads land, under packages_dir.
const StagingDir = ".farm"

func (s *Server) init() {
	if s.pkgs == nil {
		s.pkgs, s.builds, s.hosts = map[string]string{}, map[string]*build{}, map[string]*HostStatus{}
	}
}

// Offer makes file downloadable by its SHA-256.
func (s *Server) Offer(sum, file string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.pkgs[sum] = file
}

func (s *Server) expect(key string, b *build) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.builds[key] = b
}

func (s *Server) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.builds, key)
}

// Staged is where the upload of build key lands.
func (s *Server) Staged(key string) string {
	return filepath.Join(s.PackagesDir, StagingDir, key+".pkg")
}

// Handler serves /farm/v1/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /farm/v1/pkg/{sum}", s.auth(s.getPkg))
	mux.HandleFunc("PUT /farm/v1/upload/{key}", s.auth(s.upload))
	mux.HandleFunc("POST /farm/v1/log/{key}", s.auth(s.log))
	mux.HandleFunc("POST /farm/v1/phase/{key}", s.auth(s.phase))
	return mux
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if s.Token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.Token)) != 1 {
			http.Error(w, "bad or missing farm token", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

func (s *Server) getPkg(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.init()
	file := s.pkgs[r.PathValue("sum")]
	s.mu.Unlock()
	if file == "" {
		http.Error(w, "no package of that SHA-256 is offered", http.StatusNotFound)
		return
	}
	f, err := os.Open(file)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.Error(w, "not a regular file", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, filepath.Base(file), fi.ModTime(), f)
}

func validKey(k string) bool {
	if len(k) != 24 {
		return false
	}
	_, err := hex.DecodeString(k)
	return err == nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	key, want := r.PathValue("key"), r.Header.Get("X-Dsynth-Sha256")
	if !validKey(key) || len(want) != 64 {
		http.Error(w, "bad key or missing X-Dsynth-Sha256", http.StatusBadRequest)
		return
	}
	dir := filepath.Join(s.PackagesDir, StagingDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	f, err := os.CreateTemp(dir, key+".*.part")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	tmp := f.Name()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), http.MaxBytesReader(w, r.Body, MaxPackageSize))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && hex.EncodeToString(h.Sum(nil)) != want {
		err = fmt.Errorf("SHA-256 of the %d bytes received is %x, not %s", n, h.Sum(nil), want)
	}
	if err == nil {
		err = os.Rename(tmp, s.Staged(key))
	}
	if err != nil {
		os.Remove(tmp)
		http.Error(w, "upload refused: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) log(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.init()
	b := s.builds[r.PathValue("key")]
	s.mu.Unlock()
	if b == nil {
		http.Error(w, "no such build", http.StatusNotFound)
		return
	}
	f, err := os.OpenFile(b.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil {
				http.Error(w, werr.Error(), http.StatusInternalServerError)
				return
			}
		}
		if err != nil {
			break
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) phase(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	phase, name := q.Get("phase"), q.Get("host")
	load, _ := strconv.ParseFloat(q.Get("load"), 64)
	s.mu.Lock()
	s.init()
	b := s.builds[r.PathValue("key")]
	if b != nil && name != "" {
		hs := s.hosts[name]
		if hs == nil {
			hs = &HostStatus{Name: name, Building: map[string]string{}}
			s.hosts[name] = hs
		}
		hs.ABI, hs.LoadPerCPU, hs.LastSeen = q.Get("abi"), load, time.Now().UTC()
		hs.Building[b.node] = phase
	}
	s.mu.Unlock()
	if b == nil {
		http.Error(w, "no such build", http.StatusNotFound)
		return
	}
	if b.progress != nil {
		b.progress(phase)
	}
	s.writeHosts()
	w.WriteHeader(http.StatusNoContent)
}

// finished notes that host built (or failed) node.
func (s *Server) finished(host, node string, ok bool) {
	s.mu.Lock()
	s.init()
	if hs := s.hosts[host]; hs != nil {
		delete(hs.Building, node)
		if ok {
			hs.Built++
		}
		hs.LastSeen = time.Now().UTC()
	}
	s.mu.Unlock()
	s.writeHosts()
}

// Hosts returns the build hosts seen, by name.
func (s *Server) Hosts() []*HostStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*HostStatus
	for _, h := range s.hosts {
		c := *h
		c.Building = map[string]string{}
		for k, v := range h.Building {
			c.Building[k] = v
		}
		out = append(out, &c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Server) writeHosts() {
	if s.StatusFile == "" {
		return
	}
	b, err := json.MarshalIndent(HostsFile{Updated: time.Now().UTC(), Hosts: s.Hosts()}, "", "  ")
	if err == nil {
		fsutil.WriteFileAtomic(s.StatusFile, append(b, '\n'), 0o644)
	}
}
