package addrman

import (
	"fmt"
	"net/netip"
	"strings"
)

// The forms of an address. An address given to the book is IP:port, or
// id@IP:port with id the node id the address names (p2p checks the id; to
// the book it is text): the book keys an entry by its canonical IP:port
// and keeps the id with it, and hands out id@IP:port, so that whoever dials
// a learnt address checks that the node there holds the key it was learnt
// with. The id an address was first heard of with stays until Good, a
// connection that proved a key, replaces it: a peer cannot overwrite the id
// of a known address.

// SplitID separates id@host:port into the id (the text before the last
// '@') and host:port; an address without '@' has no id ("").
func SplitID(addr string) (id, hostport string) {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return addr[:at], addr[at+1:]
	}
	return "", addr
}

// parse splits addr ([id@]IP:port) into its id and canonical IP:port.
func parse(addr string) (id, key string, err error) {
	id, hostport := SplitID(addr)
	key, err = Canonical(hostport)
	return id, key, err
}

// dialAddr is the address of e as the book hands it out: id@IP:port, or
// IP:port when it has no id.
func (e *entry) dialAddr() string {
	if e.id == "" {
		return e.addr
	}
	return e.id + "@" + e.addr
}

// Canonical checks that addr is an IP:port address and returns it in
// canonical form (IPv4-mapped IPv6 unmapped, IPv6 in brackets).
func Canonical(addr string) (string, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	if ap.Port() == 0 {
		return "", fmt.Errorf("address %q: port 0", addr)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), nil
}
