package addrman

import (
	"math/rand"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Sizes and ages, as Bitcoin Core's addrman (src/addrman_impl.h).
const (
	// DefaultNewBuckets, DefaultTriedBuckets and DefaultBucketSize are the
	// table shapes: 65,536 new and 16,384 tried slots at most.
	DefaultNewBuckets   = 1024
	DefaultTriedBuckets = 256
	DefaultBucketSize   = 64
	// triedBucketsPerGroup bounds the tried buckets one address group
	// reaches; newBucketsPerSourceGroup the new buckets one source group
	// reaches.
	triedBucketsPerGroup     = 8
	newBucketsPerSourceGroup = 64
	// newBucketsPerAddress bounds how many new buckets hold one address.
	newBucketsPerAddress = 8
	// horizon: an address not heard of for this long is terrible.
	horizon = 30 * 24 * time.Hour
	// retries: an address never connected to is terrible after this many
	// failed attempts; maxFailures after a week without success.
	retries     = 3
	maxFailures = 10
	minFailTime = 7 * 24 * time.Hour
	// replacement: a tried entry that answered this recently is never
	// displaced by a collision.
	replacement = 4 * time.Hour
	// testWindow is how long a collision waits for its feeler before the
	// new address takes the slot.
	testWindow = 40 * time.Minute
	// maxCollisions bounds the collisions waiting for a feeler.
	maxCollisions = 10
	// seenUpdate: a connected address's last-seen time is refreshed at most
	// this often.
	seenUpdate = 20 * time.Minute
)

// Config shapes a Book. Zero values take the defaults.
type Config struct {
	// Key places addresses in buckets; it must be secret. Required for
	// production use (a zero key works but is known to everyone).
	Key Key
	// Rand picks addresses; optional, seeded from the key.
	Rand *rand.Rand
	// NewBuckets, TriedBuckets and BucketSize shape the tables; optional,
	// Bitcoin Core's 1024, 256 and 64.
	NewBuckets, TriedBuckets, BucketSize int
}

// entry is what the book knows of one address.
type entry struct {
	addr        string // canonical IP:port, the key of the book
	id          string // node id the address named ("" for none)
	group       string // of the address
	source      string // group of the peer that told us first
	seen        time.Time
	lastTry     time.Time
	lastSuccess time.Time
	attempts    int
	tried       bool
	refs        int   // new buckets holding it
	slots       []int // the new slots holding it (refs of them)
}

// Book is the address book: a new and a tried table of bounded size. It is
// safe for concurrent use.
type Book struct {
	mu         sync.Mutex
	key        Key
	rng        *rand.Rand
	nNew       int
	nTried     int
	size       int
	byAddr     map[string]*entry
	newTab     []*entry // nNew*size slots
	triedTab   []*entry
	newFill    []int // entries per new bucket
	triedFill  []int
	newCount   int // distinct addresses in new
	triedCount int
	collisions map[string]time.Time // new address -> when its move to tried collided
}

// New returns an empty book.
func New(cfg Config) *Book {
	if cfg.NewBuckets <= 0 {
		cfg.NewBuckets = DefaultNewBuckets
	}
	if cfg.TriedBuckets <= 0 {
		cfg.TriedBuckets = DefaultTriedBuckets
	}
	if cfg.BucketSize <= 0 {
		cfg.BucketSize = DefaultBucketSize
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewSource(int64(cfg.Key.Hash("rand"))))
	}
	return &Book{
		key: cfg.Key, rng: cfg.Rand, nNew: cfg.NewBuckets, nTried: cfg.TriedBuckets, size: cfg.BucketSize,
		byAddr: make(map[string]*entry), newTab: make([]*entry, cfg.NewBuckets*cfg.BucketSize),
		triedTab: make([]*entry, cfg.TriedBuckets*cfg.BucketSize), newFill: make([]int, cfg.NewBuckets),
		triedFill: make([]int, cfg.TriedBuckets), collisions: make(map[string]time.Time),
	}
}

func (b *Book) triedSlot(e *entry) int {
	h1 := b.key.Hash("tried", e.addr) % triedBucketsPerGroup
	bucket := b.key.Hash("tried", e.group, strconv.FormatUint(h1, 10)) % uint64(b.nTried)
	return int(bucket)*b.size + b.pos("tried", int(bucket), e.addr)
}

func (b *Book) newSlot(e *entry, source string) int {
	h1 := b.key.Hash("new", e.group, source) % newBucketsPerSourceGroup
	bucket := b.key.Hash("new", source, strconv.FormatUint(h1, 10)) % uint64(b.nNew)
	return int(bucket)*b.size + b.pos("new", int(bucket), e.addr)
}

func (b *Book) pos(table string, bucket int, addr string) int {
	return int(b.key.Hash(table+"pos", strconv.Itoa(bucket), addr) % uint64(b.size))
}

// terrible reports whether e is not worth keeping: not heard of for the
// horizon, never reached in retries attempts, or failing for a week.
func (e *entry) terrible(now time.Time) bool {
	switch {
	case now.Sub(e.lastTry) < time.Minute: // just tried: give it a chance
		return false
	case e.seen.After(now.Add(10 * time.Minute)): // claims to come from the future
		return true
	case now.Sub(e.seen) > horizon:
		return true
	case e.lastSuccess.IsZero() && e.attempts >= retries:
		return true
	case now.Sub(e.lastSuccess) > minFailTime && e.attempts >= maxFailures:
		return true
	}
	return false
}

// chance is the relative chance that Select returns e: lower right after a
// try, and for each failed attempt.
func (e *entry) chance(now time.Time) float64 {
	c := 1.0
	if now.Sub(e.lastTry) < 10*time.Minute {
		c *= 0.01
	}
	for range min(e.attempts, 8) {
		c *= 0.66
	}
	return c
}

// Add records that source (the IP or address of the peer that told us)
// knows addr ([id@]IP:port), last seen at seen. It reports whether the book
// changed. An address already known gets another new bucket with a chance
// that halves with each bucket it has, so repeating an address buys
// little; it keeps the id it has (it takes this one if it had none).
func (b *Book) Add(addr, source string, seen, now time.Time) bool {
	id, addr, err := parse(addr)
	if err != nil {
		return false
	}
	if seen.After(now) || seen.IsZero() {
		seen = now
	}
	src := GroupOf(source)
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.byAddr[addr]
	if e != nil {
		if seen.After(e.seen) {
			e.seen = seen
		}
		if e.id == "" {
			e.id = id
		}
		if e.tried || e.refs >= newBucketsPerAddress || b.rng.Intn(1<<e.refs) != 0 {
			return false
		}
	} else {
		e = &entry{addr: addr, id: id, group: GroupOf(addr), source: src, seen: seen}
	}
	slot := b.newSlot(e, src)
	if old := b.newTab[slot]; old != nil {
		if old == e {
			return false
		}
		// Keep the occupant unless it is terrible, or held elsewhere too
		// while e has no bucket yet.
		if !old.terrible(now) && !(old.refs > 1 && e.refs == 0) {
			return false
		}
		b.clearNew(slot)
	}
	if e.refs == 0 {
		b.byAddr[addr] = e
		b.newCount++
	}
	b.newTab[slot] = e
	b.newFill[slot/b.size]++
	e.refs++
	e.slots = append(e.slots, slot)
	return true
}

// clearNew empties a new slot, forgetting its entry once no bucket holds it.
func (b *Book) clearNew(slot int) {
	e := b.newTab[slot]
	b.newTab[slot] = nil
	b.newFill[slot/b.size]--
	e.slots = slices.DeleteFunc(e.slots, func(s int) bool { return s == slot })
	if e.refs--; e.refs == 0 {
		delete(b.byAddr, e.addr)
		delete(b.collisions, e.addr)
		b.newCount--
	}
}

// Attempt records a connection attempt to addr ([id@]IP:port); a failure
// costs it chance in Select and, repeated, makes it terrible.
func (b *Book) Attempt(addr string, now time.Time) {
	_, addr, err := parse(addr)
	if err != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.byAddr[addr]; e != nil {
		e.lastTry = now
		e.attempts++
	}
}

// Good records that we connected to addr ([id@]IP:port, the id the
// connection proved; an outbound connection or a feeler that completed its
// handshake), takes its id and moves it to the tried table. If
// its tried slot holds another address, that one keeps it for now: the
// collision waits for a feeler to test the occupant (ResolveCollisions).
// An address not in the book is added first, with addr as its own source.
func (b *Book) Good(addr string, now time.Time) {
	id, key, err := parse(addr)
	if err != nil {
		return
	}
	b.mu.Lock()
	e := b.byAddr[key]
	b.mu.Unlock()
	if e == nil {
		b.Add(addr, key, now, now)
	}
	addr = key
	b.mu.Lock()
	defer b.mu.Unlock()
	if e = b.byAddr[addr]; e == nil {
		return // no room in its new bucket: nothing to move
	}
	e.lastSuccess, e.lastTry, e.attempts = now, now, 0
	if id != "" {
		e.id = id
	}
	if now.Sub(e.seen) > seenUpdate {
		e.seen = now
	}
	if e.tried {
		return
	}
	if old := b.triedTab[b.triedSlot(e)]; old != nil && old != e {
		if len(b.collisions) < maxCollisions {
			if _, waiting := b.collisions[addr]; !waiting {
				b.collisions[addr] = now
			}
		}
		return
	}
	b.makeTried(e, now)
}

// makeTried moves e from the new table to its tried slot; an occupant goes
// back to the new table.
func (b *Book) makeTried(e *entry, now time.Time) {
	for _, slot := range e.slots {
		b.newTab[slot] = nil
		b.newFill[slot/b.size]--
	}
	e.refs, e.slots = 0, nil
	b.newCount--
	delete(b.collisions, e.addr)
	slot := b.triedSlot(e)
	if old := b.triedTab[slot]; old != nil {
		b.triedTab[slot] = nil
		b.triedFill[slot/b.size]--
		b.triedCount--
		old.tried = false
		delete(b.byAddr, old.addr)
		if ns := b.newSlot(old, old.source); b.newTab[ns] == nil {
			b.newTab[ns] = old
			b.newFill[ns/b.size]++
			old.refs, old.slots = 1, []int{ns}
			b.byAddr[old.addr] = old
			b.newCount++
		}
	}
	b.triedTab[slot] = e
	b.triedFill[slot/b.size]++
	b.triedCount++
	e.tried = true
}

// CollisionToTest returns a tried address that a waiting collision would
// displace, for a feeler to test: if it answers (Good), it stays.
func (b *Book) CollisionToTest() (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	pending := b.pendingCollisions()
	if len(pending) > 0 {
		// A random one, as Bitcoin Core; the sorted list keeps a seeded
		// book repeatable.
		i := b.rng.Intn(len(pending))
		pending = append(pending[i:], pending[:i]...)
	}
	for _, addr := range pending {
		if e := b.byAddr[addr]; e != nil {
			if old := b.triedTab[b.triedSlot(e)]; old != nil && old != e {
				return old.dialAddr(), true
			}
		}
	}
	return "", false
}

// ResolveCollisions settles the waiting collisions, as Bitcoin Core's
// ResolveCollisions: a tried occupant that answered within the last 4 hours
// stays; one tried since the collision that has not answered for a minute,
// or not tested within the test window, gives its slot to the new address.
func (b *Book) ResolveCollisions(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, addr := range b.pendingCollisions() {
		since := b.collisions[addr]
		e := b.byAddr[addr]
		if e == nil || e.tried {
			delete(b.collisions, addr)
			continue
		}
		old := b.triedTab[b.triedSlot(e)]
		switch {
		case old == nil:
			b.makeTried(e, now)
		case now.Sub(old.lastSuccess) < replacement:
			delete(b.collisions, addr) // the occupant answered lately
		case old.lastTry.After(since) && now.Sub(old.lastTry) > time.Minute:
			b.makeTried(e, now) // tested, and it did not answer
		case now.Sub(since) > testWindow:
			b.makeTried(e, now)
		}
	}
}

// pendingCollisions lists the waiting collisions in order; b.mu is held.
func (b *Book) pendingCollisions() []string {
	out := make([]string, 0, len(b.collisions))
	for addr := range b.collisions {
		out = append(out, addr)
	}
	slices.Sort(out)
	return out
}

// Select picks an address to dial ([id@]IP:port): from the tried or the
// new table with equal chance (only new with newOnly, for a feeler), a
// random slot, accepted with the entry's chance, raised 1.2-fold after each
// refusal. skip excludes addresses (connected ones, groups we already
// dial); it is given the address as Select would return it. Select gives
// up after maxTries picks.
func (b *Book) Select(newOnly bool, now time.Time, skip func(addr string) bool) (string, bool) {
	const maxTries = 200
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.newCount+b.triedCount == 0 || (newOnly && b.newCount == 0) {
		return "", false
	}
	factor := 1.0
	for range maxTries {
		tried := !newOnly && b.triedCount > 0 && (b.newCount == 0 || b.rng.Intn(2) == 0)
		tab, fill := b.newTab, b.newFill
		if tried {
			tab, fill = b.triedTab, b.triedFill
		}
		bucket := b.rng.Intn(len(fill))
		for fill[bucket] == 0 {
			bucket = b.rng.Intn(len(fill))
		}
		start := b.rng.Intn(b.size)
		var e *entry
		for i := range b.size {
			if e = tab[bucket*b.size+(start+i)%b.size]; e != nil {
				break
			}
		}
		if skip != nil && skip(e.dialAddr()) {
			continue
		}
		if b.rng.Float64() < factor*e.chance(now) {
			return e.dialAddr(), true
		}
		factor *= 1.2
	}
	return "", false
}

// Counts returns the addresses in the new and the tried table.
func (b *Book) Counts() (newCount, triedCount int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.newCount, b.triedCount
}

// Tried reports whether addr ([id@]IP:port) is in the tried table.
func (b *Book) Tried(addr string) bool {
	_, addr, err := parse(addr)
	if err != nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.byAddr[addr]
	return e != nil && e.tried
}

// Addresses returns up to n addresses ([id@]IP:port) for a peer that asks,
// chosen at random, leaving out terrible ones.
func (b *Book) Addresses(n int, now time.Time) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	all := make([]string, 0, len(b.byAddr))
	for _, e := range b.byAddr {
		if !e.terrible(now) {
			all = append(all, e.dialAddr())
		}
	}
	b.rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:min(n, len(all))]
}

// All returns every address in the book ([id@]IP:port), those of the new
// table and those of the tried table, in no particular order.
func (b *Book) All() (newAddrs, triedAddrs []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.byAddr {
		if e.tried {
			triedAddrs = append(triedAddrs, e.dialAddr())
		} else {
			newAddrs = append(newAddrs, e.dialAddr())
		}
	}
	return newAddrs, triedAddrs
}
