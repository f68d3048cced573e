package explorer

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandlerServesEmbeddedPage: the page and its assets are served from
// the binary, and the page loads no script or style from elsewhere.
func TestHandlerServesEmbeddedPage(t *testing.T) {
	h := Handler()
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	page := get(Path)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `<script src="app.js">`) {
		t.Fatalf("GET %s: %d %q", Path, page.Code, page.Body.String())
	}
	for _, ref := range []string{"http:", "https:", "//"} {
		if strings.Contains(page.Body.String(), `src="`+ref) || strings.Contains(page.Body.String(), `href="`+ref) {
			t.Fatalf("the page loads something from elsewhere (%s)", ref)
		}
	}
	for asset, want := range map[string]string{"app.js": "text/javascript", "style.css": "text/css"} {
		w := get(Path + asset)
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), want) || w.Body.Len() == 0 {
			t.Fatalf("GET %s: %d %s, %d bytes", Path+asset, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
	}
	if w := get(Path + "nothing.js"); w.Code != http.StatusNotFound {
		t.Fatalf("GET of a missing asset: %d", w.Code)
	}
	if w := get(strings.TrimSuffix(Path, "/")); w.Code != http.StatusFound || w.Header().Get("Location") != Path {
		t.Fatalf("GET without the slash: %d to %q", w.Code, w.Header().Get("Location"))
	}
}

// TestRedirectBrowsers: only a browser's plain GET of / goes to the
// explorer; JSON-RPC POSTs, WebSocket upgrades and other clients' GETs
// reach the RPC handler.
func TestRedirectBrowsers(t *testing.T) {
	rpc := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := RedirectBrowsers(rpc)
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, c := range []struct {
		name, method, path, accept, upgrade string
		redirect                            bool
	}{
		{"browser opens /", http.MethodGet, "/", browser, "", true},
		{"JSON-RPC POST", http.MethodPost, "/", browser, "", false},
		{"WebSocket upgrade", http.MethodGet, "/", browser, "websocket", false},
		{"curl", http.MethodGet, "/", "*/*", "", false},
		{"metrics", http.MethodGet, "/metrics", browser, "", false},
	} {
		r := httptest.NewRequest(c.method, c.path, strings.NewReader(`{}`))
		r.Header.Set("Accept", c.accept)
		if c.upgrade != "" {
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", c.upgrade)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if c.redirect && (w.Code != http.StatusFound || w.Header().Get("Location") != Path) {
			t.Errorf("%s: %d to %q, want a redirect to %s", c.name, w.Code, w.Header().Get("Location"), Path)
		}
		if !c.redirect && w.Code != http.StatusTeapot {
			t.Errorf("%s: %d, want the RPC handler", c.name, w.Code)
		}
	}
}
