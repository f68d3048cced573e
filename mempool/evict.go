package mempool

import (
	"container/heap"

	"github.com/ethereum/go-ethereum/common"
)

// evictQueue holds each sender's highest-nonce transaction (evicting it
// leaves no nonce gap) in a min-heap by effective tip, the latest arrival
// first on ties: the eviction candidate is its root, found in O(1) and
// replaced in O(log senders), so a full pool never scans itself.
type evictQueue struct {
	heap evictHeap
	last map[common.Address]*entry
}

func newEvictQueue() evictQueue { return evictQueue{last: make(map[common.Address]*entry)} }

// cheapest is the eviction candidate, or nil for an empty pool.
func (q *evictQueue) cheapest() *entry {
	if len(q.heap) == 0 {
		return nil
	}
	return q.heap[0]
}

// added is called after e joined its sender's transactions.
func (q *evictQueue) added(e *entry) {
	cur := q.last[e.from]
	switch {
	case cur == nil:
		q.last[e.from] = e
		heap.Push(&q.heap, e)
	case e.tx.Nonce() > cur.tx.Nonce():
		q.last[e.from] = e
		i := cur.heapIdx
		cur.heapIdx = -1
		q.heap[i], e.heapIdx = e, i
		heap.Fix(&q.heap, i)
	}
}

// removed is called after e left its sender's transactions, rest.
func (q *evictQueue) removed(e *entry, rest map[uint64]*entry) {
	if q.last[e.from] != e {
		return
	}
	heap.Remove(&q.heap, e.heapIdx)
	e.heapIdx = -1
	delete(q.last, e.from)
	var next *entry
	for _, r := range rest { // only this sender's transactions
		if next == nil || r.tx.Nonce() > next.tx.Nonce() {
			next = r
		}
	}
	if next != nil {
		q.added(next)
	}
}

type evictHeap []*entry

func (h evictHeap) Len() int { return len(h) }
func (h evictHeap) Less(i, j int) bool {
	if c := h[i].tip.Cmp(h[j].tip); c != 0 {
		return c < 0
	}
	return h[i].seq > h[j].seq
}
func (h evictHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *evictHeap) Push(x any) {
	e := x.(*entry)
	e.heapIdx = len(*h)
	*h = append(*h, e)
}
func (h *evictHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
