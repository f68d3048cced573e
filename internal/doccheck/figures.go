package doccheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// FiguresFile is where the figure entries live, relative to the root.
const FiguresFile = "docs/figures.json"

// Entry says where one figure comes from: Record, a committed file relative
// to the repository root, read either by JSON (a dotted path) or by Regexp.
type Entry struct {
	// Record is the committed file that holds the figure.
	Record string `json:"record"`
	// JSON is a dotted path into Record: object keys, array indexes
	// ("runs.0.staleRate") and filters of an array's objects by fields
	// ("runs[variant=pow,latencyMs=50].staleRate").
	JSON string `json:"json,omitempty"`
	// Regexp is matched against Record (between From and To when given).
	// Each match gives one value: its first group, or num/den when the
	// pattern has groups named so.
	Regexp string `json:"regexp,omitempty"`
	// From and To narrow Regexp to the text after the first From and
	// before the next To.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Reduce turns the values of all matches into one: "first" (the
	// default), "median", "min", "max", "count" or "sum".
	Reduce string `json:"reduce,omitempty"`
	// Scale multiplies the value (100 for a fraction shown as a percent).
	Scale float64 `json:"scale,omitempty"`
	// Note says what the figure is, for a reader of the table.
	Note string `json:"note,omitempty"`
}

// LoadEntries reads the figure table of the repository at root.
func LoadEntries(root string) (map[string]Entry, error) {
	data, err := os.ReadFile(filepath.Join(root, FiguresFile))
	if err != nil {
		return nil, fmt.Errorf("figure table: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var entries map[string]Entry
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("figure table %s: %w", FiguresFile, err)
	}
	return entries, nil
}

// Value reads the entry's figure from its record under root.
func (e Entry) Value(root string) (float64, error) {
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(e.Record)))
	if err != nil {
		return 0, fmt.Errorf("record: %w", err)
	}
	var v float64
	switch {
	case e.JSON != "" && e.Regexp != "":
		return 0, errors.New("an entry reads by json or by regexp, not both")
	case e.JSON != "":
		v, err = jsonValue(data, e.JSON)
	case e.Regexp != "":
		v, err = e.regexpValue(string(data))
	default:
		return 0, errors.New("an entry needs json or regexp")
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", e.Record, err)
	}
	if e.Scale != 0 {
		v *= e.Scale
	}
	return v, nil
}

func jsonValue(data []byte, path string) (float64, error) {
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return 0, err
	}
	cur := doc
	for _, step := range strings.Split(path, ".") {
		key, filter, hasFilter := strings.Cut(step, "[")
		if key != "" {
			if obj, ok := cur.(map[string]any); ok {
				// an object's key, even a numeric one ("tx_confirmation_ms.6")
				if cur, ok = obj[key]; !ok {
					return 0, fmt.Errorf("json %s: no key %q", path, key)
				}
			} else if i, err := strconv.Atoi(key); err == nil {
				arr, ok := cur.([]any)
				if !ok || i < 0 || i >= len(arr) {
					return 0, fmt.Errorf("json %s: no element %d", path, i)
				}
				cur = arr[i]
			} else {
				return 0, fmt.Errorf("json %s: %q is not an object's key", path, key)
			}
		}
		if hasFilter {
			var err error
			if cur, err = selectElement(cur, strings.TrimSuffix(filter, "]")); err != nil {
				return 0, fmt.Errorf("json %s: %w", path, err)
			}
		}
	}
	switch x := cur.(type) {
	case float64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("json %s: %v is not a number", path, cur)
}

// selectElement returns the one element of an array of objects whose fields
// equal filter's "k=v,k=v" (compared as JSON text).
func selectElement(cur any, filter string) (any, error) {
	arr, ok := cur.([]any)
	if !ok {
		return nil, fmt.Errorf("[%s] applied to a non-array", filter)
	}
	var found []any
	for _, el := range arr {
		obj, ok := el.(map[string]any)
		if !ok {
			continue
		}
		all := true
		for _, cond := range strings.Split(filter, ",") {
			k, want, _ := strings.Cut(cond, "=")
			got, ok := obj[k]
			if !ok {
				all = false
				break
			}
			text, _ := json.Marshal(got)
			if strings.Trim(string(text), `"`) != want {
				all = false
				break
			}
		}
		if all {
			found = append(found, el)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("[%s] matches %d elements, want 1", filter, len(found))
	}
	return found[0], nil
}

func (e Entry) regexpValue(text string) (float64, error) {
	re, err := regexp.Compile(e.Regexp)
	if err != nil {
		return 0, err
	}
	if e.From != "" {
		_, after, ok := strings.Cut(text, e.From)
		if !ok {
			return 0, fmt.Errorf("no %q", e.From)
		}
		text = after
	}
	if e.To != "" {
		before, _, ok := strings.Cut(text, e.To)
		if !ok {
			return 0, fmt.Errorf("no %q after the start", e.To)
		}
		text = before
	}
	num, den := re.SubexpIndex("num"), re.SubexpIndex("den")
	if (num < 0) != (den < 0) {
		return 0, errors.New("a ratio needs both groups num and den")
	}
	if num < 0 && re.NumSubexp() < 1 {
		return 0, errors.New("the regexp has no group to read")
	}
	var values []float64
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		var v float64
		if num >= 0 {
			n, err := parseNumber(m[num])
			if err != nil {
				return 0, err
			}
			d, err := parseNumber(m[den])
			if err != nil {
				return 0, err
			}
			if d == 0 {
				return 0, fmt.Errorf("ratio %s/%s divides by zero", m[num], m[den])
			}
			v = n / d
		} else if v, err = parseNumber(m[1]); err != nil {
			return 0, err
		}
		values = append(values, v)
	}
	if e.Reduce == "count" {
		return float64(len(values)), nil
	}
	if len(values) == 0 {
		return 0, fmt.Errorf("regexp %q matches nothing", e.Regexp)
	}
	switch e.Reduce {
	case "", "first":
		return values[0], nil
	case "min":
		return slices.Min(values), nil
	case "max":
		return slices.Max(values), nil
	case "sum":
		var s float64
		for _, v := range values {
			s += v
		}
		return s, nil
	case "median":
		slices.Sort(values)
		n := len(values)
		if n%2 == 1 {
			return values[n/2], nil
		}
		return (values[n/2-1] + values[n/2]) / 2, nil
	}
	return 0, fmt.Errorf("unknown reduction %q", e.Reduce)
}

func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// markerRE finds a figure and the marker after it: the number, then at most
// a short unit ("x", "%", " ms", ...) with no digit, then the comment.
var markerRE = regexp.MustCompile(`([0-9][0-9,]*(?:\.[0-9]+)?)([^0-9<>\n]{0,12})<!-- fig ([A-Za-z0-9._-]+) -->`)

// anyMarkerRE finds every marker, to catch one with no figure before it.
var anyMarkerRE = regexp.MustCompile(`<!--\s*fig\b[^>]*-->`)

// Figure is one marked figure of a document.
type Figure struct {
	File string // the document, relative to the root
	Line int
	Text string // the figure as written, "13,800"
	ID   string
}

// Figures returns the marked figures of one Markdown text; a marker with no
// number right before it is an error.
func Figures(file, text string) ([]Figure, []error) {
	var figs []Figure
	var errs []error
	matched := map[int]bool{}
	for _, m := range markerRE.FindAllStringSubmatchIndex(text, -1) {
		// the marker's start: the end of the match minus the comment
		commentAt := m[6] - len("<!-- fig ")
		matched[commentAt] = true
		figs = append(figs, Figure{
			File: file,
			Line: 1 + strings.Count(text[:m[2]], "\n"),
			Text: text[m[2]:m[3]],
			ID:   text[m[6]:m[7]],
		})
	}
	for _, m := range anyMarkerRE.FindAllStringIndex(text, -1) {
		if !matched[m[0]] {
			errs = append(errs, fmt.Errorf("%s:%d: marker %q has no figure right before it (or is not `<!-- fig ID -->`)",
				file, 1+strings.Count(text[:m[0]], "\n"), text[m[0]:m[1]]))
		}
	}
	return figs, errs
}

// Agrees reports whether written, a figure as a document shows it, is value
// rounded to the digits it shows: "2.21" stands for [2.205, 2.215], and an
// integer ending in zeros for a value rounded to its last non-zero digit
// ("13,800" for [13,750, 13,850]; "0" only for 0).
func Agrees(written string, value float64) (bool, error) {
	s := strings.ReplaceAll(written, ",", "")
	d, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return false, fmt.Errorf("figure %q is not a number", written)
	}
	var unit float64
	if _, frac, ok := strings.Cut(s, "."); ok {
		unit = math.Pow(10, -float64(len(frac)))
	} else {
		zeros := len(s) - len(strings.TrimRight(s, "0"))
		if zeros == len(s) {
			return value == 0, nil
		}
		unit = math.Pow(10, float64(zeros))
	}
	return math.Abs(value-d) <= unit/2*(1+1e-9), nil
}

// CheckFigures reads every marked figure of the documents (paths relative
// to root) and checks each against its entry's record; it also refuses an
// entry no document uses, so the table holds no dead rows.
func CheckFigures(root string, docs []string) []error {
	entries, err := LoadEntries(root)
	if err != nil {
		return []error{err}
	}
	var errs []error
	used := map[string]bool{}
	values := map[string]float64{}
	for _, doc := range docs {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(doc)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		figs, ferrs := Figures(doc, string(data))
		errs = append(errs, ferrs...)
		for _, f := range figs {
			used[f.ID] = true
			e, ok := entries[f.ID]
			if !ok {
				errs = append(errs, fmt.Errorf("%s:%d: figure %s: no entry %q in %s", f.File, f.Line, f.Text, f.ID, FiguresFile))
				continue
			}
			v, ok := values[f.ID]
			if !ok {
				if v, err = e.Value(root); err != nil {
					errs = append(errs, fmt.Errorf("%s:%d: figure %s (%s): %w", f.File, f.Line, f.Text, f.ID, err))
					continue
				}
				values[f.ID] = v
			}
			agree, err := Agrees(f.Text, v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %w", f.File, f.Line, err))
			} else if !agree {
				errs = append(errs, fmt.Errorf("%s:%d: figure %s (%s) disagrees with its record %s, which gives %s",
					f.File, f.Line, f.Text, f.ID, e.Record, strconv.FormatFloat(v, 'g', 8, 64)))
			}
		}
	}
	ids := make([]string, 0, len(entries))
	for id := range entries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if !used[id] {
			errs = append(errs, fmt.Errorf("%s: entry %q is used by no document", FiguresFile, id))
		}
	}
	return errs
}

// Documents returns README.md and every docs/*.md of the repository at
// root, relative to it.
func Documents(root string) ([]string, error) {
	docs := []string{"README.md"}
	matches, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		rel, err := filepath.Rel(root, m)
		if err != nil {
			return nil, err
		}
		docs = append(docs, filepath.ToSlash(rel))
	}
	return docs, nil
}
