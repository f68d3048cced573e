package doccheck

import (
	"fmt"
	"regexp"
	"strings"
)

// measureRE finds what reads as a measured figure: a number with a unit of
// rate, time, size or ratio. Group 1 is the number, group 2 the unit. A
// ratio's x sticks to its number ("2.21x"; "21000 x price" is a product);
// the characters around the figure keep hex (0x12), versions (1.17.10) and
// words (2xl) out.
var measureRE = regexp.MustCompile(`(?:^|[^0-9A-Za-z.,])([0-9][0-9,]*(?:\.[0-9]+)?)(x|×| ?(?:%|ms|µs|ns|s|MB|MiB|GB|tx/s|blocks/s))(?:$|[^0-9A-Za-z/.]|\.(?:$|[^0-9]))`)

// codeRE finds fenced code blocks and inline code spans, whose numbers are
// commands and flags, not figures.
var codeRE = regexp.MustCompile("(?s)```.*?```|`[^`\n]*`")

// Unmarked returns an error for every figure of text that looks measured (a
// decimal number with a unit such as x, %, ms, s or MB, or any number with
// x or %) and has no `<!-- fig ID -->` marker after it. Numbers in code are
// not figures: a setting is written as code (`--interval 2.5s`). It is the check that a new number cannot slip into a
// document without a record.
func Unmarked(file, text string) []error {
	blank := codeRE.ReplaceAllStringFunc(text, func(code string) string {
		return strings.Map(func(r rune) rune {
			if r == '\n' {
				return r
			}
			return ' '
		}, code)
	})
	marked := map[int]bool{}
	for _, m := range markerRE.FindAllStringSubmatchIndex(blank, -1) {
		marked[m[2]] = true
	}
	var errs []error
	for _, m := range measureRE.FindAllStringSubmatchIndex(blank, -1) {
		num, unit := blank[m[2]:m[3]], strings.TrimSpace(blank[m[4]:m[5]])
		if !strings.Contains(num, ".") && unit != "x" && unit != "×" && unit != "%" {
			continue
		}
		if !marked[m[2]] {
			errs = append(errs, fmt.Errorf("%s:%d: figure %s%s has no `<!-- fig ID -->` marker naming its record",
				file, 1+strings.Count(text[:m[2]], "\n"), num, unit))
		}
	}
	return errs
}
