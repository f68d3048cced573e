package addrman

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newBook(seed int64) *Book {
	var k Key
	k[0] = byte(seed)
	return New(Config{Key: k, Rand: rand.New(rand.NewSource(seed))})
}

func TestGroup(t *testing.T) {
	for addr, want := range map[string]string{
		"10.1.2.3:30303":        "ipv4/10.1",
		"10.1.200.3":            "ipv4/10.1",
		"10.2.2.3:1":            "ipv4/10.2",
		"127.0.0.1:30303":       "loopback",
		"[::1]:30303":           "loopback",
		"[2001:db8:1::5]:30303": "ipv6/20010db8",
		"[::ffff:1.2.3.4]:1":    "ipv4/1.2",
		"0.0.0.0:1":             "unroutable",
		"example.org:1":         "unroutable",
	} {
		if got := GroupOf(addr); got != want {
			t.Errorf("GroupOf(%s) = %s, want %s", addr, got, want)
		}
	}
}

// TestOneSourceGroupReachesFewBuckets: however many addresses one source
// group sends, and from how many groups they are, they land in at most
// newBucketsPerSourceGroup of the new buckets, so the rest of the table
// keeps what other sources told us.
func TestOneSourceGroupReachesFewBuckets(t *testing.T) {
	b := newBook(1)
	for i := range 20000 {
		b.Add(fmt.Sprintf("%d.%d.%d.1:30303", 1+i%200, i/200%250, i%7), fmt.Sprintf("66.6.%d.1", i%250), t0, t0)
	}
	buckets := 0
	for _, n := range b.newFill {
		if n > 0 {
			buckets++
		}
	}
	if buckets > newBucketsPerSourceGroup {
		t.Fatalf("one source group filled %d new buckets, at most %d allowed", buckets, newBucketsPerSourceGroup)
	}
	if n, _ := b.Counts(); n > newBucketsPerSourceGroup*DefaultBucketSize {
		t.Fatalf("%d addresses from one source group", n)
	}
}

// TestBucketsDependOnTheKey: two nodes place the same address in
// different slots, so an attacker cannot aim at a slot without the key.
func TestBucketsDependOnTheKey(t *testing.T) {
	a, b := newBook(1), newBook(2)
	differ := 0
	for i := range 100 {
		e := &entry{addr: fmt.Sprintf("1.2.3.%d:1", i), group: "ipv4/1.2"}
		if a.newSlot(e, "ipv4/5.6") != b.newSlot(e, "ipv4/5.6") {
			differ++
		}
	}
	if differ < 90 {
		t.Fatalf("only %d of 100 addresses in different slots under different keys", differ)
	}
}

// TestGoodMovesToTriedAndTestBeforeEvict: a good address moves to tried, and a tried occupant that still answers keeps its
// slot against a colliding address (test-before-evict); one that does not
// answer gives it up after the feeler's test.
func TestGoodMovesToTriedAndTestBeforeEvict(t *testing.T) {
	b := New(Config{Key: Key{1}, Rand: rand.New(rand.NewSource(1)), TriedBuckets: 1, BucketSize: 1})
	b.Add("1.1.1.1:1", "9.9.9.9", t0, t0)
	b.Good("1.1.1.1:1", t0)
	if !b.Tried("1.1.1.1:1") {
		t.Fatal("a good address is not in tried")
	}
	// One tried slot: a second good address collides.
	now := t0.Add(5 * time.Hour)
	b.Add("2.2.2.2:1", "9.9.9.9", now, now)
	b.Good("2.2.2.2:1", now)
	if b.Tried("2.2.2.2:1") || !b.Tried("1.1.1.1:1") {
		t.Fatal("a collision displaced the tried entry before any test")
	}
	old, ok := b.CollisionToTest()
	if !ok || old != "1.1.1.1:1" {
		t.Fatalf("collision to test = %q %v", old, ok)
	}
	// The feeler reaches the occupant: it stays.
	b.Good(old, now.Add(time.Minute))
	b.ResolveCollisions(now.Add(2 * time.Minute))
	if !b.Tried("1.1.1.1:1") || b.Tried("2.2.2.2:1") {
		t.Fatal("an occupant that answered lost its slot")
	}
	// Later the occupant stops answering: the newcomer takes the slot.
	later := now.Add(10 * time.Hour)
	b.Good("2.2.2.2:1", later)
	b.Attempt("1.1.1.1:1", later.Add(time.Minute))
	b.ResolveCollisions(later.Add(3 * time.Minute))
	if !b.Tried("2.2.2.2:1") || b.Tried("1.1.1.1:1") {
		t.Fatal("an occupant that failed its test kept the slot")
	}
	if n, _ := b.Counts(); n != 1 {
		t.Fatalf("the displaced address is not back in new (%d in new)", n)
	}
}

// TestTerribleEntriesGiveWay: a full new slot keeps a live entry but gives
// it to a newcomer once the entry has failed retries times.
func TestTerribleEntriesGiveWay(t *testing.T) {
	b := New(Config{Key: Key{1}, Rand: rand.New(rand.NewSource(1)), NewBuckets: 1, BucketSize: 1})
	if !b.Add("1.1.1.1:1", "9.9.9.9", t0, t0) {
		t.Fatal("first address not added")
	}
	if b.Add("2.2.2.2:1", "9.9.9.9", t0, t0) {
		t.Fatal("a live entry was displaced")
	}
	for i := range retries {
		b.Attempt("1.1.1.1:1", t0.Add(time.Duration(i)*time.Hour))
	}
	now := t0.Add(10 * time.Hour)
	if !b.Add("2.2.2.2:1", "9.9.9.9", now, now) {
		t.Fatal("a terrible entry kept its slot")
	}
	if got := b.Addresses(10, now); len(got) != 1 || got[0] != "2.2.2.2:1" {
		t.Fatalf("addresses = %v", got)
	}
}

// TestSelectPrefersLiveAddresses: an address that failed often is picked
// far less than one that did not.
func TestSelectPrefersLiveAddresses(t *testing.T) {
	b := newBook(3)
	b.Add("1.1.1.1:1", "9.9.9.9", t0, t0)
	b.Add("2.2.2.2:1", "8.8.8.8", t0, t0)
	for range 8 {
		b.Attempt("1.1.1.1:1", t0)
	}
	now := t0.Add(time.Hour)
	picks := map[string]int{}
	for range 2000 {
		a, ok := b.Select(false, now, nil)
		if !ok {
			t.Fatal("nothing selected")
		}
		picks[a]++
	}
	if picks["1.1.1.1:1"]*5 > picks["2.2.2.2:1"] {
		t.Fatalf("picks %v: the failing address is not disfavoured", picks)
	}
	if _, ok := b.Select(false, now, func(string) bool { return true }); ok {
		t.Fatal("Select returned a skipped address")
	}
}

func TestCanonical(t *testing.T) {
	for _, bad := range []string{"", "1.2.3.4", "host:1", "1.2.3.4:0", "1.2.3.4:99999"} {
		if _, err := Canonical(bad); err == nil {
			t.Errorf("Canonical(%q) accepted", bad)
		}
	}
	if c, _ := Canonical("[::ffff:1.2.3.4]:5"); c != "1.2.3.4:5" {
		t.Errorf("mapped address canonical = %s", c)
	}
}

// TestIDsKeptWithAddresses: an entry keyed by its IP:port keeps the id it
// was first heard of with, whatever id a later source claims for the same
// address, until a connection proves another (Good); the book hands out
// the address with its id, and takes either form back.
func TestIDsKeptWithAddresses(t *testing.T) {
	b := newBook(4)
	if !b.Add("aa@1.1.1.1:1", "9.9.9.9", t0, t0) {
		t.Fatal("address not added")
	}
	for range 50 {
		b.Add("bb@[::ffff:1.1.1.1]:1", "8.8.8.8", t0, t0) // another id for the same key
	}
	if n, _ := b.Counts(); n != 1 {
		t.Fatalf("%d entries for one IP:port", n)
	}
	if a, ok := b.Select(false, t0, nil); !ok || a != "aa@1.1.1.1:1" {
		t.Fatalf("Select = %q, %v; want the address with the id first heard of", a, ok)
	}
	if got := b.Addresses(10, t0); len(got) != 1 || got[0] != "aa@1.1.1.1:1" {
		t.Fatalf("Addresses = %v", got)
	}
	if GroupOf("aa@1.1.1.1:1") != "ipv4/1.1" {
		t.Fatalf("group of an address with an id: %s", GroupOf("aa@1.1.1.1:1"))
	}
	b.Attempt("1.1.1.1:1", t0)
	b.Good("cc@1.1.1.1:1", t0.Add(time.Minute)) // a connection proved cc
	if !b.Tried("1.1.1.1:1") || !b.Tried("cc@1.1.1.1:1") {
		t.Fatal("the good address is not in tried")
	}
	if _, tried := b.All(); len(tried) != 1 || tried[0] != "cc@1.1.1.1:1" {
		t.Fatalf("tried = %v, want the proven id", tried)
	}
}

func TestAnchorsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "anchors.json")
	if err := SaveAnchors(path, []string{"1.2.3.4:5", "bad", "aa@5.6.7.8:9", "1.1.1.1:1", "2.2.2.2:2", "3.3.3.3:3"}); err != nil {
		t.Fatal(err)
	}
	got, err := LoadAnchors(path)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1.2.3.4:5 aa@5.6.7.8:9 1.1.1.1:1]" {
		t.Fatalf("anchors = %v", got)
	}
	if again, err := LoadAnchors(path); err != nil || again != nil {
		t.Fatalf("anchors read twice: %v %v", again, err)
	}
}
