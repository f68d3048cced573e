package p2p_test

import (
	"context"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
	"github.com/chaind/chaind/p2p/p2ptest"
)

var _ p2p.Transport = (*memnet.Host)(nil)

// testNode is a server on a real chain and pool (in-memory LevelDB) on a
// memnet host.
type testNode struct {
	srv   *p2p.Server
	chain *chain.Chain
	pool  *mempool.Pool
	host  *memnet.Host
}

// world is the network and chain setup a test shares.
type world struct {
	t   *testing.T
	net *memnet.Network
	g   *chain.Genesis
	clk *clock.Sim // the chains' clock (block timestamps)
	// closers stop the servers and close the stores, last opened first;
	// tests defer close so that it runs inside the synctest bubble.
	closers []func()
}

func (w *world) close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
	time.Sleep(2 * time.Second) // goleveldb's pool drainer lingers up to a second after Close
}

func newWorld(t *testing.T) *world {
	return &world{t: t, net: memnet.New(nil, 1), g: ct.Genesis(2), clk: ct.NewClock(ct.GenesisTime)}
}

// node starts a server at ip:30303 with blocks mined on its chain; edit may
// change its config.
func (w *world) node(ip string, blocks int, edit func(*p2p.Config)) *testNode {
	w.t.Helper()
	store := chain.OpenMemStore()
	w.closers = append(w.closers, func() { store.Close() })
	c, err := chain.Open(chain.Config{Store: store, Genesis: w.g, Engine: ct.Engine{}, Clock: w.clk})
	if err != nil {
		w.t.Fatal(err)
	}
	pool := mempool.New(mempool.Config{Chain: c})
	c.Subscribe(pool.Reset)
	for range blocks {
		ct.Mine(w.t, c, w.clk, ct.Addr(1), nil, nil)
	}
	host := w.net.Host(ip)
	cfg := p2p.Config{Chain: c, Pool: pool, Transport: host, ListenAddr: ip + ":30303", Logger: slog.New(slog.DiscardHandler)}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := p2p.New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.closers = append(w.closers, srv.Close)
	return &testNode{srv: srv, chain: c, pool: pool, host: host}
}

// hostile dials n from ip as the peer with key seed, claiming weight.
func (w *world) hostile(n *testNode, ip string, seed int, weight *big.Int) (*p2ptest.Peer, error) {
	return p2ptest.Dial(context.Background(), w.net.Host(ip), n.srv.Addr(), p2ptest.Key(seed), p2ptest.Hello(w.g, ct.Engine{}, weight))
}
