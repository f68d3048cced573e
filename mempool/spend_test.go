package mempool

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// scanNeed is the balance rule by brute force: what tx and the sender's
// pooled transactions between the account nonce and tx's nonce may cost.
func scanNeed(p *Pool, from common.Address, tx *types.Transaction) *big.Int {
	need := chain.MaxCost(tx)
	acct := p.cfg.Chain.Account(from)
	for n, e := range p.senders[from] {
		if n >= acct.Nonce && n < tx.Nonce() {
			need.Add(need, e.cost)
		}
	}
	return need
}

// TestBalanceCheckMatchesScan: over random transfers large enough to run
// senders out of funds (gaps, replacements, appends), mined blocks and the
// resets they cause, every new nonce is refused for insufficient funds
// exactly when the brute-force sum says so, and each sender's running
// total and lowest nonce match a scan of its transactions.
func TestBalanceCheckMatchesScan(t *testing.T) {
	refused := 0
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 7))
		g := ct.Genesis(4)
		clock := ct.NewClock(ct.GenesisTime)
		c := ct.NewChain(t, g, clock)
		p := New(Config{Chain: c, MaxNonceGap: 8})
		c.Subscribe(p.Reset)
		for step := range 400 {
			if rng.IntN(20) == 0 {
				minePending(t, c, clock, p)
			} else {
				from := rng.IntN(4)
				addr := ct.Addr(from)
				tip := big.NewInt(int64(1+rng.IntN(6)) * 1e9)
				tx := ct.Sign(g, from, &types.DynamicFeeTx{ChainID: big.NewInt(1337), Nonce: max(p.PendingNonce(addr)+uint64(rng.IntN(3)), 1) - 1,
					GasTipCap: tip, GasFeeCap: new(big.Int).Add(tip, g.BaseFee.Big()), Gas: chain.TransferGas, To: &common.Address{1},
					Value: ct.Ether(int64(1 + rng.IntN(150)))})
				p.mu.RLock()
				_, replaces := p.senders[addr][tx.Nonce()]
				acct := c.Account(addr)
				outside := tx.Nonce() < acct.Nonce || tx.Nonce() > acct.Nonce+p.cfg.MaxNonceGap
				short := acct.Balance.Cmp(scanNeed(p, addr, tx)) < 0
				p.mu.RUnlock()
				err := p.Add(tx)
				if !replaces && !outside && short != errors.Is(err, chain.ErrInsufficientFunds) {
					t.Fatalf("seed %d step %d: nonce %d, brute force says short=%v, Add: %v", seed, step, tx.Nonce(), short, err)
				}
				if short && !replaces && !outside {
					refused++
				}
			}
			p.mu.RLock()
			for from, txs := range p.senders {
				total, low := new(big.Int), ^uint64(0)
				for n, e := range txs {
					total.Add(total, e.cost)
					low = min(low, n)
				}
				if sp := p.spends[from]; sp == nil || sp.total.Cmp(total) != 0 || sp.low != low {
					t.Fatalf("seed %d step %d: %s: running sum %+v, scan gives total %v lowest nonce %d", seed, step, from, sp, total, low)
				}
			}
			if len(p.spends) != len(p.senders) {
				t.Fatalf("seed %d step %d: %d running sums for %d senders", seed, step, len(p.spends), len(p.senders))
			}
			p.mu.RUnlock()
		}
	}
	if refused < 50 {
		t.Fatalf("only %d transfers refused for funds: the test does not exercise the rule", refused)
	}
}

// TestRefusedSendersStayBounded: transfers from many unfunded senders are
// refused, and the accounts read to refuse them stay within the pool's size.
func TestRefusedSendersStayBounded(t *testing.T) {
	g := ct.Genesis(0)
	p := New(Config{Chain: ct.NewChain(t, g, ct.NewClock(ct.GenesisTime)), MaxTxs: 4})
	for i := range 30 {
		if err := p.Add(ct.Transfer(g, i, 0, common.Address{1}, big.NewInt(1))); !errors.Is(err, chain.ErrInsufficientFunds) {
			t.Fatalf("sender %d: %v, want %v", i, err, chain.ErrInsufficientFunds)
		}
		if len(p.heads) > 4 {
			t.Fatalf("after %d senders, %d accounts kept for a pool of 4", i+1, len(p.heads))
		}
	}
}
