package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/clock"
)

//go:embed static
var static embed.FS

// MaxClients bounds the live streams served at once.
const MaxClients = 32

// Config is what a Server needs. State is required; the rest is optional.
type Config struct {
	State    func(ctx context.Context) State // a fresh snapshot
	Control  http.Handler                    // the control JSON-RPC API, served at /rpc; nil: read-only page
	Interval time.Duration                   // between updates; default 1 s
	Clock    clock.Clock                     // default clock.Real
	Logger   *slog.Logger
}

// Server serves the page (/), its assets (/static/), snapshots (/state),
// the live stream (/events) and the control API (/rpc).
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	clients atomic.Int32
}

// New returns the dashboard's handler.
func New(cfg Config) *Server {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	sub, _ := fs.Sub(static, "static") // cannot fail: the directory is embedded
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(sub)))
	s.mux.HandleFunc("GET /{$}", s.page)
	s.mux.HandleFunc("GET /state", s.state)
	s.mux.HandleFunc("GET /events", s.events)
	if cfg.Control != nil {
		s.mux.HandleFunc("POST /rpc", s.control)
	}
	return s
}

// control passes the page's calls to the control API. Only this page may
// call it: a request from another origin (a web page elsewhere reaching
// for the loopback port) is refused. The control API sees a same-host call.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
		http.Error(w, "control calls come from the dashboard page only", http.StatusForbidden)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" // the control API answers at its root
	r2.Header.Del("Origin")
	s.cfg.Control.ServeHTTP(w, r2)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

var pageTmpl = template.Must(template.ParseFS(static, "static/index.html"))

// pageData fills the page template: live pages stream, static ones carry
// their state inline.
type pageData struct {
	Live     bool
	Controls bool
	Inline   template.JS // the state as JSON, for a static page
	Script   template.JS // the script inline, for a static page
	Style    template.CSS
}

func (s *Server) page(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTmpl.Execute(w, pageData{Live: true, Controls: s.cfg.Control != nil}); err != nil {
		s.cfg.Logger.Debug("Dashboard page", "err", err)
	}
}

func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.cfg.State(r.Context()))
}

// events streams a snapshot every interval as Server-Sent Events until the
// client goes away.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	if s.clients.Add(1) > MaxClients {
		s.clients.Add(-1)
		http.Error(w, "too many dashboard clients", http.StatusServiceUnavailable)
		return
	}
	defer s.clients.Add(-1)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	tick := s.cfg.Clock.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	for {
		data, err := json.Marshal(s.cfg.State(r.Context()))
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "event: state\ndata: %s\n\n", data); err != nil {
			return
		}
		flusher.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-tick.C():
		}
	}
}

// WriteStatic writes a self-contained page of st (no server, no network):
// the view of a finished run, for a report or a simulation.
func WriteStatic(w io.Writer, st State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	script, err := static.ReadFile("static/app.js")
	if err != nil {
		return err
	}
	style, err := static.ReadFile("static/style.css")
	if err != nil {
		return err
	}
	return pageTmpl.Execute(w, pageData{Inline: template.JS(data), Script: template.JS(script), Style: template.CSS(style)})
}
