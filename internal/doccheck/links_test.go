package doccheck

import (
	"strings"
	"testing"
)

func TestAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"PoW difficulty and hash power":                       "pow-difficulty-and-hash-power",
		"1. Proof of work is safe only with high probability": "1-proof-of-work-is-safe-only-with-high-probability",
		"Stale rate against the model":                        "stale-rate-against-the-model",
		"What `chaind bench tx` measures":                     "what-chaind-bench-tx-measures",
		"Before 2026-11-27":                                   "before-2026-11-27",
	} {
		text := "# " + strings.ReplaceAll(heading, "`", "`") + "\n"
		if !Anchors(text)[want] {
			t.Errorf("%q: want anchor %q, got %v", heading, want, Anchors(text))
		}
	}
	if a := Anchors("## Runs\n## Runs\n```\n# not a heading\n```\n"); !a["runs"] || !a["runs-1"] || a["not-a-heading"] {
		t.Errorf("repeated headings and code: %v", a)
	}
}

func TestBrokenLinksFail(t *testing.T) {
	root := writeTree(t, map[string]string{
		"README.md": "See [perf](docs/perf.md#the-miner), [gone](docs/gone.md), [x](docs/perf.md#nowhere),\n" +
			"[web](https://example.org/x.md), [self](#top) and ![img](docs/a.png).\n\n```\n[code](not/a/link.md)\n```\n# Top\n",
		"docs/perf.md": "# Perf\n## The miner\nBack to [the readme](../README.md#top).\n",
		"docs/a.png":   "png",
	})
	var text []string
	for _, err := range CheckLinks(root, []string{"README.md", "docs/perf.md"}) {
		text = append(text, err.Error())
	}
	want := []string{
		"README.md:1: link docs/gone.md: no file docs/gone.md",
		"README.md:1: link docs/perf.md#nowhere: docs/perf.md has no heading #nowhere",
	}
	if strings.Join(text, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(text, "\n"), strings.Join(want, "\n"))
	}
}
