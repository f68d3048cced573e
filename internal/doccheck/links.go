package doccheck

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// linkRE finds Markdown links and images: [text](target) and ![alt](target).
var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// fenceRE finds fenced code blocks, whose brackets are not links.
var fenceRE = regexp.MustCompile("(?ms)^```.*?^```")

// headingRE finds ATX headings.
var headingRE = regexp.MustCompile(`(?m)^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$`)

// Anchor is GitHub's id of a heading: lower case, spaces to hyphens, and
// every character that is not a letter, digit, hyphen or underscore
// dropped.
func Anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127 && isLetter(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isLetter(r rune) bool {
	return strings.ToUpper(string(r)) != strings.ToLower(string(r))
}

// Anchors returns the heading ids of a Markdown text, repeated headings
// numbered as GitHub numbers them ("x", "x-1", ...).
func Anchors(text string) map[string]bool {
	text = fenceRE.ReplaceAllString(text, "")
	ids := map[string]bool{}
	seen := map[string]int{}
	for _, m := range headingRE.FindAllStringSubmatch(text, -1) {
		plain := strings.NewReplacer("`", "", "*", "", "[", "", "]", "").Replace(m[1])
		id := Anchor(plain)
		if n := seen[id]; n > 0 {
			ids[fmt.Sprintf("%s-%d", id, n)] = true
		} else {
			ids[id] = true
		}
		seen[id]++
	}
	return ids
}

// CheckLinks checks every relative link of the documents (paths relative to
// root): its file must exist, and an #anchor into a Markdown file must be
// one of its headings. Links with a scheme (https:, mailto:) are not
// followed.
func CheckLinks(root string, docs []string) []error {
	var errs []error
	anchors := map[string]map[string]bool{}
	anchorsOf := func(file string) (map[string]bool, error) {
		if a, ok := anchors[file]; ok {
			return a, nil
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			return nil, err
		}
		anchors[file] = Anchors(string(data))
		return anchors[file], nil
	}
	for _, doc := range docs {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(doc)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		text := fenceRE.ReplaceAllStringFunc(string(data), func(s string) string {
			return strings.Repeat("\n", strings.Count(s, "\n")) // keep line numbers
		})
		for _, m := range linkRE.FindAllStringSubmatchIndex(text, -1) {
			target := text[m[2]:m[3]]
			line := 1 + strings.Count(text[:m[0]], "\n")
			if strings.Contains(target, ":") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			if file == "" {
				file = doc
			} else {
				file = path.Join(path.Dir(doc), file)
			}
			info, err := os.Stat(filepath.Join(root, filepath.FromSlash(file)))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: link %s: no file %s", doc, line, target, file))
				continue
			}
			if frag == "" || info.IsDir() || !strings.HasSuffix(file, ".md") {
				continue
			}
			a, err := anchorsOf(file)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: link %s: %w", doc, line, target, err))
				continue
			}
			if !a[frag] {
				errs = append(errs, fmt.Errorf("%s:%d: link %s: %s has no heading #%s", doc, line, target, file, frag))
			}
		}
	}
	return errs
}
