package rpc

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

func (s *Server) newRouter() *mux.Router {
	r := mux.NewRouter()
	r.Use(s.checkHost, s.checkOrigin)
	r.HandleFunc("/", s.serveRPC).Methods(http.MethodPost)
	r.HandleFunc("/", s.serveGet).Methods(http.MethodGet)
	r.HandleFunc("/", s.servePreflight).Methods(http.MethodOptions)
	return r
}

// Handle serves h for GET requests on path beside the JSON-RPC endpoint,
// such as a metrics handler on /metrics, behind the same host and origin
// checks. Call it before serving.
func (s *Server) Handle(path string, h http.Handler) {
	s.router.Handle(path, h).Methods(http.MethodGet)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// checkHost refuses requests whose Host names a host that is not in
// VHosts, so that a web page cannot reach the node through a DNS name it
// controls (DNS rebinding). Requests addressed to an IP address pass.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if net.ParseIP(host) == nil && !s.hosts.allows(host) {
			http.Error(w, fmt.Sprintf("invalid host %q: start the node with --rpc.vhosts to allow it", host), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkOrigin refuses browser requests from origins not in CORSDomains and
// sets the CORS answer headers for the allowed ones. Requests without an
// Origin header do not come from a web page and pass, and so do requests
// from a page this server served itself (the explorer): their origin is the
// host they are addressed to, which checkHost has already accepted.
func (s *Server) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || strings.EqualFold(origin, "http://"+r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		if !s.origins.allows(origin) {
			http.Error(w, fmt.Sprintf("origin %q not allowed: start the node with --rpc.corsdomain to allow it", origin), http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		next.ServeHTTP(w, r)
	})
}

// servePreflight answers a CORS preflight from an allowed origin.
func (s *Server) servePreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	} else {
		h.Set("Access-Control-Allow-Headers", "Content-Type")
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// serveGet upgrades to WebSocket, or describes the endpoint.
func (s *Server) serveGet(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		s.serveWS(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "chaind JSON-RPC 2.0: send POST requests with a JSON body to this URL, or open a WebSocket on it.")
}

func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, s.encode(errorResponse(nullID, newError(CodeInvalidRequest, KindLimit,
				fmt.Sprintf("request body too large: the limit is %d bytes", s.cfg.MaxBodyBytes))), s.cfg.MaxResponseBytes))
			return
		}
		writeJSON(w, http.StatusBadRequest, s.encode(errorResponse(nullID, newError(CodeInvalidRequest, KindInvalidRequest,
			"cannot read request body: "+err.Error())), s.cfg.MaxResponseBytes))
		return
	}
	out := s.handleBody(r.Context(), body)
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if _, err := w.Write(append(body, '\n')); err != nil {
		slog.Debug("RPC response not written", "err", err)
	}
}
