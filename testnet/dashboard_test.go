package testnet

import (
	"flag"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/browser"
	"github.com/chromedp/chromedp"
)

var screenshot = flag.String("dashboard.screenshot", "", "write a PNG of the dashboard during the partition to this file")

// TestDashboardInBrowser opens the live dashboard of a 4-node testnet in
// headless Chromium: every node is shown, the block tree grows, and the
// Partition button splits the network (the supervisor's links are cut and
// the page shows it).
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a testnet and a browser")
	}
	page := browser.Open(t, 4*time.Minute) // skips without Chromium
	s := up(t, Options{Nodes: 4, BlockTime: 500 * time.Millisecond})
	page.Navigate(s.DashboardURL())
	waitJS := func(what, js string) {
		t.Helper()
		page.Wait(what, js, 90*time.Second)
	}
	waitJS("the page to show 4 nodes", `document.querySelectorAll('#nodes .node').length === 4`)
	names := browser.Eval[string](page, `[...document.querySelectorAll('#nodes .node b')].map(b => b.textContent).join(',')`)
	if names != "node 0,node 1,node 2,node 3" {
		t.Fatalf("nodes shown: %q", names)
	}
	topJS := `Math.max(-1, ...[...document.querySelectorAll('#tree rect.block')].map(r => +r.dataset.height))`
	waitJS("blocks in the tree", topJS+` > 2`)
	first := browser.Eval[int](page, topJS)
	waitJS("the tree to grow", topJS+` >= `+strconv.Itoa(first+3))

	if _, err := chromedp.Run(page.Context(), chromedp.SetValue("#partition-groups", "0,1 2,3")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(page.Context(), chromedp.Click("#partition-btn")); err != nil {
		t.Fatal(err)
	}
	waitJS("the page to show 8 cut links", `document.querySelectorAll('#links td.cut').length === 8`)
	for _, l := range [][2]int{{0, 2}, {2, 0}, {1, 3}, {3, 1}} {
		if !s.net.get(l[0], l[1]).Cut {
			t.Fatalf("link %d -> %d is not cut after the button", l[0], l[1])
		}
	}
	if s.net.get(0, 1).Cut || s.net.get(2, 3).Cut {
		t.Fatal("a link inside a group was cut")
	}
	waitJS("the two halves to show different heads", `document.querySelectorAll('#tree .head-label').length >= 2`)
	// Each branch on its own row, the red outline explained, and node 0 in
	// the colour the report's plots give it.
	if rows := browser.Eval[string](page, `[...document.querySelectorAll('#tree rect.block')].filter(r => (r.dataset.row === '0') !== r.classList.contains('canonical')).map(r => r.dataset.height + ':' + r.dataset.row).join(',')`); rows != "" {
		t.Errorf("blocks on the wrong row (height:row): %s", rows)
	}
	if key := browser.Eval[string](page, `(document.querySelector('#legend .side-key') || {}).textContent || ''`); !strings.Contains(key, "red outline") {
		t.Errorf("the legend does not explain the red outline: %q", key)
	}
	if c := browser.Eval[string](page, `document.querySelector('#nodes .node[data-index="0"]').style.getPropertyValue('--c')`); c != "#F15A60" {
		t.Errorf("node 0 is drawn in %q, the plots draw it in #F15A60", c)
	}
	events := browser.Eval[string](page, `document.getElementById('events').textContent`)
	if !strings.Contains(events, "partition") {
		t.Fatalf("the events do not show the partition: %q", events)
	}
	if *screenshot != "" {
		time.Sleep(4 * time.Second) // let each half grow its own branch
		page.Screenshot(*screenshot)
	}
}
