package explorer

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Path is where the explorer is served; its assets sit directly below it.
const Path = "/explorer/"

// Handler serves the page at Path and its assets below it, and redirects
// Path without its trailing slash to Path. Mount it for GET requests on
// Path, on Path+"{asset}" and on Path without the slash.
func Handler() http.Handler {
	sub, _ := fs.Sub(static, "static") // cannot fail: the directory is embedded
	files := http.StripPrefix(Path, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path+"/" == Path {
			http.Redirect(w, r, Path, http.StatusFound)
			return
		}
		if !strings.HasPrefix(r.URL.Path, Path) {
			http.NotFound(w, r)
			return
		}
		// The page is small and changes with the binary; the node's API is
		// what the page reads live, so never serve a stale script.
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// RedirectBrowsers sends a browser that opens the root URL (a plain GET of
// / that accepts HTML) to the explorer and passes every other request to
// next: JSON-RPC POSTs, WebSocket upgrades and GETs from other clients (curl
// asks for */* and keeps the endpoint's plain-text description).
func RedirectBrowsers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/" && r.Header.Get("Upgrade") == "" &&
			strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, Path, http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}
