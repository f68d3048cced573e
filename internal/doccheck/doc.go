// Package doccheck holds the documentation to the repository: every figure
// marked in README.md and docs/*.md must equal the committed record it was
// read from (figures.go), and every relative link must reach a file and,
// when it names one, a heading (links.go). Its tests run both checks on
// the repository itself, so a record that changes without its figure, or a
// section that moves without its links, fails `go test`.
//
// A figure is marked by an HTML comment right after it, invisible on the
// rendered page: `2.21x <!-- fig intake-ratio-unbatched -->`. The id names
// an entry of docs/figures.json, which says which committed file holds the
// figure and how to read it (a JSON path, or a regular expression with an
// optional section, reduction and scale).
//
// README.md must mark every figure that looks measured (unmarked.go): a
// number with x or %, or a decimal with a unit of time, size or rate,
// outside code. A new unmarked number there fails `go test`.
//
// doccheck imports no chaind package; only tests use it.
package doccheck
