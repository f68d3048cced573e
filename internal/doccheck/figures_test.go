package doccheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (path -> content) under a temporary root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const intakeRecord = `== unbatched
pair  geth  chaind  ratio  CPU g/c
1     4606  10189   2.21   312/121
2     4796   9919   2.07   309/122
3     4530  10223   2.26   323/122
ratio chaind/geth: median 2.21, min 2.07, max 2.26 over 3 pairs
== batched
1    14192  24833   1.75   122/72
2    14456  20082   1.39   119/90
3    13495  22821   1.69   127/77
ratio chaind/geth: median 1.69, min 1.39, max 1.75 over 3 pairs
`

const intakeTable = `{
  "ratio-unbatched": {"record": "docs/perf/intake.txt", "regexp": "median ([0-9.]+)"},
  "ratio-batched": {"record": "docs/perf/intake.txt", "from": "== batched", "regexp": "median ([0-9.]+)"},
  "cpu-unbatched": {"record": "docs/perf/intake.txt", "from": "== unbatched", "to": "== batched",
    "regexp": "(?m)^[0-9] .* (?P<den>[0-9]+)/(?P<num>[0-9]+)$", "reduce": "median"},
  "pairs": {"record": "docs/perf/intake.txt", "to": "== batched", "regexp": "(?m)^([0-9]) ", "reduce": "count"},
  "stale": {"record": "docs/results.json", "json": "runs[variant=pow,latencyMs=50].staleRate", "scale": 100},
  "blocks": {"record": "docs/results.json", "json": "runs.1.blocks"},
  "six": {"record": "docs/results.json", "json": "confirmations.6.p50", "scale": 0.001}
}`

const results = `{"runs": [{"variant": "pow", "latencyMs": 50, "staleRate": 0.0982, "blocks": 112},
 {"variant": "pos", "latencyMs": 50, "staleRate": 0, "blocks": 13775}],
 "confirmations": {"6": {"p50": 344003}}}`

// goodDoc quotes every figure of the table correctly.
const goodDoc = `# Intake

A PoS node accepts 2.21x <!-- fig ratio-unbatched --> geth's rate unbatched
and 1.7x <!-- fig ratio-batched --> in batches, with 0.39 <!-- fig cpu-unbatched -->
of its CPU, over 3 <!-- fig pairs --> pairs. Stale: 9.8% <!-- fig stale -->;
13,800 <!-- fig blocks --> blocks; 344 <!-- fig six --> s to six confirmations.
`

func TestFiguresAgreeWithTheirRecords(t *testing.T) {
	root := writeTree(t, map[string]string{
		"docs/figures.json":    intakeTable,
		"docs/perf/intake.txt": intakeRecord,
		"docs/results.json":    results,
		"README.md":            goodDoc,
	})
	if errs := CheckFigures(root, []string{"README.md"}); len(errs) != 0 {
		t.Fatalf("a correct document fails: %v", errs)
	}
}

// TestStaleFigureFails is the check shown failing: the README of 2026-12
// quoted 2.8x for a ratio whose record says 2.21.
func TestStaleFigureFails(t *testing.T) {
	for _, tc := range []struct{ old, stale, want string }{
		{"2.21x <!-- fig ratio-unbatched -->", "2.8x <!-- fig ratio-unbatched -->", "figure 2.8 (ratio-unbatched) disagrees with its record docs/perf/intake.txt, which gives 2.21"},
		{"1.7x <!-- fig ratio-batched -->", "1.8x <!-- fig ratio-batched -->", "figure 1.8 (ratio-batched)"},
		{"0.39 <!-- fig cpu-unbatched -->", "0.35 <!-- fig cpu-unbatched -->", "figure 0.35 (cpu-unbatched)"},
		{"3 <!-- fig pairs -->", "5 <!-- fig pairs -->", "figure 5 (pairs)"},
		{"9.8% <!-- fig stale -->", "0.098% <!-- fig stale -->", "figure 0.098 (stale)"},
		{"13,800 <!-- fig blocks -->", "13,700 <!-- fig blocks -->", "figure 13,700 (blocks)"},
		{"344 <!-- fig six -->", "345 <!-- fig six -->", "figure 345 (six)"},
		{"2.21x <!-- fig ratio-unbatched -->", "2.21x <!-- fig ratio-unbatch -->", `no entry "ratio-unbatch"`},
		{"2.21x <!-- fig ratio-unbatched -->", "2.21x <!--fig ratio-unbatched-->", "has no figure right before it"},
	} {
		doc := strings.Replace(goodDoc, tc.old, tc.stale, 1)
		root := writeTree(t, map[string]string{
			"docs/figures.json":    intakeTable,
			"docs/perf/intake.txt": intakeRecord,
			"docs/results.json":    results,
			"README.md":            doc,
		})
		errs := CheckFigures(root, []string{"README.md"})
		var text []string
		for _, err := range errs {
			text = append(text, err.Error())
		}
		if len(errs) == 0 || !strings.Contains(strings.Join(text, "\n"), tc.want) {
			t.Errorf("%s: got %q, want an error containing %q", tc.stale, text, tc.want)
		}
	}
}

// TestChangedRecordFails changes the record under an unchanged document.
func TestChangedRecordFails(t *testing.T) {
	root := writeTree(t, map[string]string{
		"docs/figures.json":    intakeTable,
		"docs/perf/intake.txt": strings.Replace(intakeRecord, "median 2.21", "median 2.76", 1),
		"docs/results.json":    results,
		"README.md":            goodDoc,
	})
	errs := CheckFigures(root, []string{"README.md"})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "README.md:3: figure 2.21 (ratio-unbatched)") {
		t.Fatalf("got %v, want one error for README.md:3", errs)
	}
}

func TestUnusedEntryAndBrokenRecordFail(t *testing.T) {
	table := strings.Replace(intakeTable, `"blocks": {"record": "docs/results.json", "json": "runs.1.blocks"}`,
		`"blocks": {"record": "docs/results.json", "json": "runs.2.blocks"}, "spare": {"record": "docs/results.json", "json": "runs.0.blocks"}`, 1)
	root := writeTree(t, map[string]string{
		"docs/figures.json":    table,
		"docs/perf/intake.txt": intakeRecord,
		"docs/results.json":    results,
		"README.md":            goodDoc,
	})
	var text []string
	for _, err := range CheckFigures(root, []string{"README.md"}) {
		text = append(text, err.Error())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{`entry "spare" is used by no document`, "json runs.2.blocks: no element 2"} {
		if !strings.Contains(all, want) {
			t.Errorf("got %q, want %q", all, want)
		}
	}
}

func TestAgreesRounding(t *testing.T) {
	for _, tc := range []struct {
		written string
		value   float64
		want    bool
	}{
		{"2.21", 2.214, true},
		{"2.21", 2.2151, false},
		{"2.2", 2.249, true},
		{"2.2", 2.26, false},
		{"13,800", 13775, true},
		{"13,800", 13749, false},
		{"44", 44.4, true},
		{"44", 45, false},
		{"0", 0, true},
		{"0", 0.001, false},
		{"0.0", 0.04, true},
		{"120", 124, true},
		{"120", 126, false},
	} {
		got, err := Agrees(tc.written, tc.value)
		if err != nil || got != tc.want {
			t.Errorf("Agrees(%s, %v) = %v, %v; want %v", tc.written, tc.value, got, err, tc.want)
		}
	}
}
