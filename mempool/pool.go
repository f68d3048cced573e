package mempool

import (
	"container/heap"
	"fmt"
	"math/big"
	"sort"
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Admission errors beyond the chain's transaction rules.
const (
	ErrAlreadyKnown       = chain.ErrorKind("already known")
	ErrUnderpriced        = chain.ErrorKind("transaction underpriced")
	ErrReplaceUnderpriced = chain.ErrorKind("replacement transaction underpriced")
	ErrPoolFull           = chain.ErrorKind("txpool is full")
	ErrBadCall            = chain.ErrorKind("call would fail in a block")
)

// ChainState is what the pool reads from the chain.
type ChainState interface {
	Genesis() *chain.Genesis
	// CheckTx applies the rules that need no state (chain.Chain.CheckTx).
	CheckTx(tx *types.Transaction) error
	Account(addr common.Address) chain.Account
}

// Config configures a Pool.
type Config struct {
	Chain ChainState // required
	// MinGasPrice is the lowest max fee per gas admitted; optional, the
	// genesis base fee.
	MinGasPrice *big.Int
	// MaxTxs bounds the pool; optional, 50,000.
	MaxTxs int
	// MaxNonceGap is how far ahead of the account nonce a queued transaction
	// may be; optional, 1,024.
	MaxNonceGap uint64
	// CheckCall (optional) checks a call to one of the engine's system
	// addresses against the head state, as executing it in a block would
	// (PoS: pos.Engine.CheckSystemTx); it is nil for other transactions.
	// A call it refuses is not admitted, and a pending one it refuses after
	// a head change is dropped: a call that would fail in a block is never
	// mined, so never pays, and must not wait in the pool for free.
	CheckCall func(from common.Address, tx *types.Transaction) error
}

// PriceBump is the percentage by which a replacement must raise both the max
// fee and the tip.
const PriceBump = 10

type entry struct {
	tx   *types.Transaction
	from common.Address
	tip  *big.Int // effective tip under the base fee
	cost *big.Int // value + gas x max fee
	seq  uint64   // arrival order, to break ties

	heapIdx int // position in the eviction queue, if it is its sender's last
}

// Pool is the transaction pool. It is safe for concurrent use.
type Pool struct {
	cfg     Config
	genesis *chain.Genesis

	mu      sync.RWMutex
	all     map[common.Hash]*entry
	senders map[common.Address]map[uint64]*entry
	spends  map[common.Address]*spend
	heads   map[common.Address]chain.Account // senders' accounts at the head of the last Reset
	evict   evictQueue
	seq     uint64

	subMu sync.Mutex
	subs  []func([]*types.Transaction)
}

// New returns an empty pool.
func New(cfg Config) *Pool {
	g := cfg.Chain.Genesis()
	if cfg.MinGasPrice == nil {
		cfg.MinGasPrice = g.BaseFee.Big()
	}
	if cfg.MaxTxs <= 0 {
		cfg.MaxTxs = 50_000
	}
	if cfg.MaxNonceGap == 0 {
		cfg.MaxNonceGap = 1024
	}
	return &Pool{
		cfg:     cfg,
		genesis: g,
		all:     make(map[common.Hash]*entry),
		senders: make(map[common.Address]map[uint64]*entry),
		spends:  make(map[common.Address]*spend),
		heads:   make(map[common.Address]chain.Account),
		evict:   newEvictQueue(),
	}
}

// SubscribeNewTxs registers fn to be called with newly admitted transactions.
func (p *Pool) SubscribeNewTxs(fn func([]*types.Transaction)) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	p.subs = append(p.subs, fn)
}

// Add validates tx against the head state and admits it, or says why not.
func (p *Pool) Add(tx *types.Transaction) error {
	e, err := p.check(tx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	err = p.insert(e)
	p.mu.Unlock()
	if err != nil {
		return err
	}
	p.subMu.Lock()
	defer p.subMu.Unlock()
	for _, fn := range p.subs {
		fn([]*types.Transaction{tx})
	}
	return nil
}

// Prepare recovers, on all cores, the senders of those of txs that pass the
// checks made before a recovery (screen), and caches each in its
// transaction, without the pool lock: an Add of each then finds its sender
// recovered. A batch of transactions that arrives at once (a JSON-RPC
// batch) is admitted one by one, in order, after one Prepare. Fewer than
// 32 (chain.Genesis.RecoverSenders) are left to Add.
func (p *Pool) Prepare(txs []*types.Transaction) {
	var todo []*types.Transaction
	for _, tx := range txs {
		if p.screen(tx) == nil {
			todo = append(todo, tx)
		}
	}
	p.genesis.RecoverSenders(todo)
}

// screen applies the checks that come before the costly sender recovery:
// the stateless rules, the pool's copy and the minimum fee.
func (p *Pool) screen(tx *types.Transaction) error {
	if err := p.cfg.Chain.CheckTx(tx); err != nil {
		return err
	}
	if p.Get(tx.Hash()) != nil {
		return fmt.Errorf("%w: %s", ErrAlreadyKnown, tx.Hash().Hex())
	}
	if tx.GasFeeCap().Cmp(p.cfg.MinGasPrice) < 0 {
		return fmt.Errorf("%w: max fee per gas %v, this node's minimum is %v", ErrUnderpriced, tx.GasFeeCap(), p.cfg.MinGasPrice)
	}
	return nil
}

// check applies the stateless rules and recovers the sender (once: it stays
// cached in tx), without holding the pool lock.
func (p *Pool) check(tx *types.Transaction) (*entry, error) {
	if err := p.screen(tx); err != nil {
		return nil, err
	}
	from, err := p.genesis.Sender(tx)
	if err != nil {
		return nil, err
	}
	if err := p.checkCall(from, tx); err != nil {
		return nil, err
	}
	return &entry{tx: tx, from: from, tip: p.genesis.EffectiveTip(tx), cost: chain.MaxCost(tx)}, nil
}

// checkCall applies Config.CheckCall, if any.
func (p *Pool) checkCall(from common.Address, tx *types.Transaction) error {
	if p.cfg.CheckCall == nil {
		return nil
	}
	if err := p.cfg.CheckCall(from, tx); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCall, err)
	}
	return nil
}

// insert applies the stateful rules and stores e. p.mu is held.
func (p *Pool) insert(e *entry) error {
	hash := e.tx.Hash()
	if _, ok := p.all[hash]; ok {
		return fmt.Errorf("%w: %s", ErrAlreadyKnown, hash.Hex())
	}
	acct := p.account(e.from)
	nonce := e.tx.Nonce()
	if nonce < acct.Nonce {
		return fmt.Errorf("%w: address %s, next nonce %d, tx nonce %d", chain.ErrNonceTooLow, e.from.Hex(), acct.Nonce, nonce)
	}
	if nonce > acct.Nonce+p.cfg.MaxNonceGap {
		return fmt.Errorf("%w: address %s, next nonce %d, tx nonce %d exceeds the gap of %d", chain.ErrNonceTooHigh, e.from.Hex(), acct.Nonce, nonce, p.cfg.MaxNonceGap)
	}
	txs := p.senders[e.from]
	old := txs[nonce]
	if old != nil && !bumped(old.tx, e.tx) {
		return fmt.Errorf("%w: replacing nonce %d needs max fee >= %v and tip >= %v", ErrReplaceUnderpriced, nonce,
			bump(old.tx.GasFeeCap()), bump(old.tx.GasTipCap()))
	}
	need := new(big.Int).Set(e.cost)
	if sp := p.spends[e.from]; sp != nil && old == nil && sp.low >= acct.Nonce && nonce > p.evict.last[e.from].tx.Nonce() {
		need.Add(need, sp.total) // appended after all of the sender's others: O(1)
	} else {
		for n := acct.Nonce; n < nonce; n++ {
			if prior := txs[n]; prior != nil {
				need.Add(need, prior.cost)
			}
		}
	}
	if acct.Balance.Cmp(need) < 0 {
		return fmt.Errorf("%w: address %s has %v, needs %v for this and its earlier pending transactions", chain.ErrInsufficientFunds, e.from.Hex(), acct.Balance, need)
	}
	if old == nil && len(p.all) >= p.cfg.MaxTxs {
		victim := p.evict.cheapest()
		if victim == nil || victim.tip.Cmp(e.tip) >= 0 {
			return fmt.Errorf("%w: %d transactions, and none pays a lower tip than %v", ErrPoolFull, len(p.all), e.tip)
		}
		p.remove(victim)
	}
	if old != nil {
		p.remove(old)
	}
	if p.senders[e.from] == nil {
		p.senders[e.from] = make(map[uint64]*entry)
	}
	p.seq++
	e.seq = p.seq
	p.senders[e.from][nonce] = e
	p.all[hash] = e
	p.evict.added(e)
	if sp := p.spends[e.from]; sp == nil {
		p.spends[e.from] = &spend{total: new(big.Int).Set(e.cost), low: nonce}
	} else {
		sp.total.Add(sp.total, e.cost)
		sp.low = min(sp.low, nonce)
	}
	return nil
}

// spend sums what a sender's pooled transactions may cost and keeps its
// lowest pooled nonce, so that the balance check of a transaction appended
// after all the sender's others (what a busy sender does) costs O(1) under
// the pool lock instead of a walk over its earlier nonces.
type spend struct {
	total *big.Int
	low   uint64
}

// account reads a sender's account at the head the pool last followed,
// from the chain once per sender and head. p.mu is held. A block import
// holds the chain's lock while it executes and writes; reading the chain
// on every admission would stop all admissions for that long, under the
// pool lock. Between an import and the Reset that follows it, admission
// sees the previous head's state, and the Reset drops what the new head
// makes invalid, as it does for transactions admitted just before.
func (p *Pool) account(addr common.Address) chain.Account {
	if a, ok := p.heads[addr]; ok {
		return a
	}
	if len(p.heads) >= p.cfg.MaxTxs { // senders that never get in must not grow it without bound
		clear(p.heads)
	}
	a := p.cfg.Chain.Account(addr)
	p.heads[addr] = a
	return a
}

// bumped reports whether repl raises both the max fee and the tip of old by
// at least PriceBump percent.
func bumped(old, repl *types.Transaction) bool {
	return repl.GasFeeCap().Cmp(bump(old.GasFeeCap())) >= 0 && repl.GasTipCap().Cmp(bump(old.GasTipCap())) >= 0
}

func bump(x *big.Int) *big.Int {
	b := new(big.Int).Mul(x, big.NewInt(100+PriceBump))
	return b.Div(b.Add(b, big.NewInt(99)), big.NewInt(100)) // round up
}

func (p *Pool) remove(e *entry) {
	delete(p.all, e.tx.Hash())
	txs := p.senders[e.from]
	delete(txs, e.tx.Nonce())
	p.evict.removed(e, txs)
	if len(txs) == 0 {
		delete(p.senders, e.from)
		delete(p.spends, e.from)
		return
	}
	sp := p.spends[e.from]
	sp.total.Sub(sp.total, e.cost)
	for txs[sp.low] == nil { // the sender's lowest nonce left: walk up to the next one
		sp.low++
	}
}

// Get returns a pooled transaction, or nil.
func (p *Pool) Get(hash common.Hash) *types.Transaction {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if e := p.all[hash]; e != nil {
		return e.tx
	}
	return nil
}

// Hashes lists every pooled transaction, pending and queued.
func (p *Pool) Hashes() []common.Hash {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]common.Hash, 0, len(p.all))
	for h := range p.all {
		out = append(out, h)
	}
	return out
}

// Len is the number of pooled transactions.
func (p *Pool) Len() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.all)
}

// split returns a sender's pooled transactions as pending (a nonce run from
// the account nonce) and queued (the rest), each in nonce order.
func (p *Pool) split(from common.Address, txs map[uint64]*entry) (pending, queued []*entry) {
	next := p.cfg.Chain.Account(from).Nonce
	for ; txs[next] != nil; next++ {
		pending = append(pending, txs[next])
	}
	for n, e := range txs {
		if n > next {
			queued = append(queued, e)
		}
	}
	sort.Slice(queued, func(i, j int) bool { return queued[i].tx.Nonce() < queued[j].tx.Nonce() })
	return pending, queued
}

// PendingNonce is the nonce the sender's next transaction should carry: the
// account nonce plus its run of pending transactions.
func (p *Pool) PendingNonce(addr common.Address) uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	next := p.cfg.Chain.Account(addr).Nonce
	for txs := p.senders[addr]; txs[next] != nil; next++ {
	}
	return next
}

// Pending returns the executable transactions best first: by effective tip,
// each sender's in nonce order, earlier arrivals first on ties.
func (p *Pool) Pending() []*types.Transaction {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var h byTip
	for from, txs := range p.senders {
		if pending, _ := p.split(from, txs); len(pending) > 0 {
			h = append(h, pending)
		}
	}
	heap.Init(&h)
	out := make([]*types.Transaction, 0, len(p.all))
	for h.Len() > 0 {
		run := h[0]
		out = append(out, run[0].tx)
		if len(run) == 1 {
			heap.Pop(&h)
		} else {
			h[0] = run[1:]
			heap.Fix(&h, 0)
		}
	}
	return out
}

// byTip is a heap of per-sender runs ordered by their first entry.
type byTip [][]*entry

func (h byTip) Len() int { return len(h) }
func (h byTip) Less(i, j int) bool {
	a, b := h[i][0], h[j][0]
	if c := a.tip.Cmp(b.tip); c != 0 {
		return c > 0
	}
	return a.seq < b.seq
}
func (h byTip) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *byTip) Push(x any)   { *h = append(*h, x.([]*entry)) }
func (h *byTip) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Content lists pending and queued transactions by sender and nonce.
func (p *Pool) Content() (pending, queued map[common.Address][]*types.Transaction) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	pending = make(map[common.Address][]*types.Transaction)
	queued = make(map[common.Address][]*types.Transaction)
	for from, txs := range p.senders {
		pe, qu := p.split(from, txs)
		for _, e := range pe {
			pending[from] = append(pending[from], e.tx)
		}
		for _, e := range qu {
			queued[from] = append(queued[from], e.tx)
		}
	}
	return pending, queued
}

// Status counts pending and queued transactions.
func (p *Pool) Status() (pending, queued int) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for from, txs := range p.senders {
		pe, _ := p.split(from, txs)
		pending += len(pe)
		queued += len(txs) - len(pe)
	}
	return pending, queued
}

// Reset follows a head change: transactions of blocks a reorg removed come
// back (unless the new branch includes them), and transactions that the new
// head state makes invalid (nonce used, balance too low) are dropped.
// Subscribe it to the chain.
func (p *Pool) Reset(ev chain.HeadEvent) {
	included := make(map[common.Hash]bool)
	for _, b := range ev.Added {
		for _, tx := range b.Txs {
			included[tx.Hash()] = true
		}
	}
	var readmit []*entry
	for i := len(ev.Removed) - 1; i >= 0; i-- {
		for _, tx := range ev.Removed[i].Txs {
			if included[tx.Hash()] {
				continue
			}
			if e, err := p.check(tx); err == nil {
				readmit = append(readmit, e)
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.heads)
	for hash := range included {
		if e := p.all[hash]; e != nil {
			p.remove(e)
		}
	}
	for from, txs := range p.senders {
		acct := p.cfg.Chain.Account(from)
		spent := new(big.Int)
		nonces := make([]uint64, 0, len(txs))
		for n := range txs {
			nonces = append(nonces, n)
		}
		sort.Slice(nonces, func(i, j int) bool { return nonces[i] < nonces[j] })
		broke := false
		for _, n := range nonces {
			e := txs[n]
			if n < acct.Nonce {
				p.remove(e)
				continue
			}
			spent.Add(spent, e.cost)
			if broke || spent.Cmp(acct.Balance) > 0 || p.checkCall(from, e.tx) != nil {
				broke = true // this and every later nonce can no longer execute
				p.remove(e)
			}
		}
	}
	for _, e := range readmit {
		_ = p.insert(e) // a transaction the new branch invalidated is simply not re-admitted
	}
}
