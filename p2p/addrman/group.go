package addrman

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
)

// Group is the network group of ip: "ipv4/a.b" for an IPv4 /16, "ipv6/…"
// for an IPv6 /32, "loopback" for loopback addresses and "unroutable" for
// what cannot be parsed or routed (unspecified, multicast). Private IPv4
// ranges are ordinary /16 groups, so that a local network of many hosts
// (or an in-memory one) has as many groups as it has /16s.
func Group(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast():
		return "unroutable"
	case ip.IsLoopback():
		return "loopback"
	case ip.Is4():
		b := ip.As4()
		return fmt.Sprintf("ipv4/%d.%d", b[0], b[1])
	default:
		b := ip.As16()
		return fmt.Sprintf("ipv6/%x", b[:4])
	}
}

// GroupOf is the group of the host of a [id@]host:port address, or of a
// bare IP; what does not parse is "unroutable".
func GroupOf(addr string) string {
	_, host := SplitID(addr)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "unroutable"
	}
	return Group(ip)
}

// IsLoopback reports whether the host of addr ([id@]host:port or a bare
// IP) is a loopback address.
func IsLoopback(addr string) bool { return GroupOf(addr) == "loopback" }

// Key is the secret of one node that places addresses in buckets. It must
// not be told to peers: whoever knows it can aim addresses at chosen slots.
type Key [32]byte

// Hash is the keyed hash of parts: SHA-256 over the key and the parts, each
// prefixed by its length, read as a big-endian uint64.
func (k Key) Hash(parts ...string) uint64 {
	h := sha256.New()
	h.Write(k[:])
	var n [4]byte
	for _, p := range parts {
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}
