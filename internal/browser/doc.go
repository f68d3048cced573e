// Package browser drives headless Chromium for the tests of the pages
// chaind serves (the testnet dashboard, the node's explorer): it finds the
// binary, opens a page, evaluates script in it, waits for a condition and
// takes screenshots.
//
// browser imports internal/poll only; only tests use it.
package browser
