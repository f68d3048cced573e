package browser

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
	"github.com/chromedp/chromedp"
)

// Chromium finds a Chromium or Chrome binary, or returns "".
func Chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Page is one tab of a headless browser.
type Page struct {
	t   testing.TB
	ctx context.Context
}

// Open starts headless Chromium (a 1400x1000 window), or skips t when none
// is installed, and bounds everything done with the page by timeout. The
// browser stops when t ends.
func Open(t testing.TB, timeout time.Duration) *Page {
	t.Helper()
	bin := Chromium()
	if bin == "" {
		t.Skip("Chromium is not installed (apt-get install chromium); the page was not tested in a browser")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelT(); cancel(); cancelAlloc() })
	return &Page{t: t, ctx: ctx}
}

// Context is the page's context, for chromedp actions the helpers lack.
func (p *Page) Context() context.Context { return p.ctx }

// Navigate opens url.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("open %s: %v", url, err)
	}
}

// Eval evaluates js in page p and returns its value.
func Eval[T any](p *Page, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// Wait evaluates js, a boolean expression, until it is true, and fails the
// test, naming what it waited for, after timeout.
func (p *Page) Wait(what, js string, timeout time.Duration) {
	p.t.Helper()
	poll.Until(p.t, timeout, what, func() bool { return Eval[bool](p, js) })
}

// Screenshot writes a PNG of the whole page to file.
func (p *Page) Screenshot(file string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)) // quality 100 makes a PNG
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}
