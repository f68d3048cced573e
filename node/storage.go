package node

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/chaind/chaind/chain"
)

// minerPause stops the miner while the store cannot write (a full disk) and
// restarts it when the store recovers, if it was mining. Store health
// changes arrive on the goroutine that tried to write, which can be the
// miner's own, so they are applied from a goroutine of minerPause's.
type minerPause struct {
	n      *Node
	mu     sync.Mutex
	failed bool // the latest state the store reported
	paused bool // the miner was mining when the store failed
	wake   chan struct{}
	quit   chan struct{}
	done   chan struct{}
}

func (n *Node) watchStorage() *minerPause {
	p := &minerPause{n: n, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	n.store.OnHealth(func(err error) {
		p.mu.Lock()
		p.failed = err != nil
		p.mu.Unlock()
		select {
		case p.wake <- struct{}{}:
		default:
		}
	})
	go p.loop()
	return p
}

func (p *minerPause) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.quit:
			return
		case <-p.wake:
		}
		p.mu.Lock()
		failed := p.failed
		p.mu.Unlock()
		switch m := p.n.miner; {
		case failed && m.Mining():
			m.Stop()
			p.paused = true
		case !failed && p.paused:
			p.paused = false
			m.Start()
		}
	}
}

func (p *minerPause) close() {
	close(p.quit)
	<-p.done
}

// Repair opens a data directory that the start-up checks refuse because it
// is older than the head the node last acknowledged (its newest LevelDB log
// was lost), replays what is left from genesis, and if every state root
// checks, accepts its head so that the node starts from it and fetches the
// lost blocks again from its peers. The node must not be running. A
// database whose blocks are damaged cannot be repaired: move it aside and
// resync.
func Repair(dataDir string) (*chain.Block, error) {
	store, err := chain.OpenStoreForRepair(ChainDataDir(dataDir))
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: Config{DataDir: dataDir, RPCAddr: DefaultRPCAddr}, log: slog.New(slog.DiscardHandler), store: store}
	defer store.Close()
	if err := n.build(); err != nil {
		return nil, err
	}
	if err := n.chain.VerifyReplay(); err != nil {
		return nil, fmt.Errorf("repair: the chain that is left does not check (%w); move the data directory aside and resync", err)
	}
	if err := store.AcceptHead(); err != nil {
		return nil, fmt.Errorf("repair: %w", err)
	}
	return n.chain.Head(), nil
}
