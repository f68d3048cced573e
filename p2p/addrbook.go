package p2p

import (
	"net"
	"sync"
)

// Address book bounds.
const (
	maxBookSize      = 1024 // addresses remembered
	maxBookPerSource = 64   // addresses remembered from one peer
	// dialsPerRound bounds the dials to learnt addresses per discovery round
	// (discoverInterval), so that addresses fed to us cannot make us dial
	// at will.
	dialsPerRound = 2
)

// addrBook holds listen addresses learnt from peers, bounded in size and per
// source.
type addrBook struct {
	mu        sync.Mutex
	entries   map[string]*bookEntry
	perSource map[string]int
}

type bookEntry struct {
	source  string
	dialled bool
}

func newAddrBook() *addrBook {
	return &addrBook{entries: make(map[string]*bookEntry), perSource: make(map[string]int)}
}

// add remembers addr as told by source, if it is a host:port and there is
// room; it reports whether addr was added.
func (b *addrBook) add(source, addr string) bool {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, known := b.entries[addr]; known || len(b.entries) >= maxBookSize || b.perSource[source] >= maxBookPerSource {
		return false
	}
	b.entries[addr] = &bookEntry{source: source}
	b.perSource[source]++
	return true
}

// markDialled records that addr was dialled (or connected to us).
func (b *addrBook) markDialled(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.entries[addr]; e != nil {
		e.dialled = true
	}
}

// undialled returns up to n addresses never dialled for which skip is false,
// and marks them dialled.
func (b *addrBook) undialled(n int, skip func(string) bool) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for addr, e := range b.entries {
		if len(out) >= n {
			break
		}
		if e.dialled || skip(addr) {
			continue
		}
		e.dialled = true
		out = append(out, addr)
	}
	return out
}

// size is the number of addresses remembered.
func (b *addrBook) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.entries)
}
