package testnet

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/chaind/chaind/testnet/dashboard"
	"github.com/ethereum/go-ethereum/common"
)

// dashboardHeights is how many of the latest heights the dashboard shows.
const dashboardHeights = 40

// maxDashboardEvents is how many of the latest events it sends.
const maxDashboardEvents = 60

// liveView builds the dashboard's snapshots, at most one per cacheFor
// however many pages watch, and notices nodes going down and up.
type liveView struct {
	s        *Supervisor
	mu       sync.Mutex
	at       time.Time
	last     dashboard.State
	alive    []bool // as last seen; seen says whether there was a last time
	seen     bool
	upDown   []dashboard.Event
	cacheFor time.Duration
}

// serveDashboard starts the dashboard on a free loopback port.
func (s *Supervisor) serveDashboard() error {
	v := &liveView{s: s, alive: make([]bool, s.opts.Nodes), cacheFor: 500 * time.Millisecond}
	ln, err := listenLoopback()
	if err != nil {
		return fmt.Errorf("testnet dashboard: %w", err)
	}
	s.dashAddr = ln.Addr().String()
	h := dashboard.New(dashboard.Config{State: v.state, Control: s.ctl.Handler, Logger: s.log})
	s.dash = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go s.dash.Serve(ln)
	return nil
}

// DashboardURL is the address of the live dashboard.
func (s *Supervisor) DashboardURL() string { return "http://" + s.dashAddr + "/" }

func (v *liveView) state(ctx context.Context) dashboard.State {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.s.clock.Now()
	if !v.at.IsZero() && now.Sub(v.at) < v.cacheFor {
		return v.last
	}
	st := v.s.Status(ctx)
	for _, n := range st {
		if v.seen && n.Alive != v.alive[n.Index] {
			kind, what := "up", "is up"
			if !n.Alive {
				kind, what = "down", "is down"
			}
			v.upDown = append(v.upDown, dashboard.Event{TimeMs: now.UnixMilli(), Kind: kind, Text: fmt.Sprintf("node %d %s", n.Index, what)})
		}
		v.alive[n.Index] = n.Alive
	}
	v.seen = true
	v.at, v.last = now, v.s.snapshot(st, v.upDown)
	return v.last
}

// snapshot assembles a dashboard state from the nodes' status and the
// records.
func (s *Supervisor) snapshot(st []NodeStatus, upDown []dashboard.Event) dashboard.State {
	out := dashboard.State{Consensus: s.opts.Consensus, TimeMs: s.nowMs(), Colours: nodeColours(s.opts.Nodes)}
	heads := map[common.Hash][]int{}
	var best *NodeStatus
	for i, n := range st {
		out.Nodes = append(out.Nodes, dashboard.Node{Index: n.Index, Alive: n.Alive, Height: n.Height, Head: n.Head.Hex(),
			Peers: n.Peers, Pending: n.Pending, Finalized: n.Finalized, RPC: n.RPC})
		if !n.Alive || n.Error != "" {
			continue
		}
		heads[n.Head] = append(heads[n.Head], n.Index)
		if best == nil || n.Height > best.Height {
			best = &st[i]
		}
	}
	for a := 0; a < s.opts.Nodes; a++ {
		for b := 0; b < s.opts.Nodes; b++ {
			if a != b {
				out.Links = append(out.Links, dashboardLink(a, b, s.net.get(a, b)))
			}
		}
	}
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	out.Blocks = treeTail(s.rec, best, heads)
	out.Events = latestEvents(s.rec, upDown)
	return out
}

// treeTail is the recorded blocks of the latest heights, canonical on the
// chain of the highest live head. The caller holds r.mu.
func treeTail(r *Records, best *NodeStatus, heads map[common.Hash][]int) []dashboard.Block {
	var top uint64
	for _, b := range r.Blocks {
		top = max(top, b.Height)
	}
	lo := top - min(top, dashboardHeights)
	canon := map[common.Hash]bool{}
	if best != nil {
		for h, b := best.Head, r.Blocks[best.Head]; b != nil && b.Height >= lo; h, b = b.Parent, r.Blocks[b.Parent] {
			canon[h] = true
		}
	}
	var shown []treeBlock
	for h, b := range r.Blocks {
		if b.Height >= lo && top-b.Height < dashboardHeights {
			shown = append(shown, treeBlock{Hash: h, Parent: b.Parent, Height: b.Height, Canonical: canon[h]})
		}
	}
	rows := branchRows(shown)
	var out []dashboard.Block
	for _, t := range shown {
		b := r.Blocks[t.Hash]
		prod, ok := r.Producers[b.Producer]
		if !ok {
			prod = -1
		}
		out = append(out, dashboard.Block{Hash: t.Hash.Hex(), Parent: b.Parent.Hex(), Height: b.Height, Producer: prod,
			Canonical: t.Canonical, Row: rows[t.Hash], Heads: heads[t.Hash]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Height != out[j].Height {
			return out[i].Height < out[j].Height
		}
		return out[i].Hash < out[j].Hash
	})
	return out
}

// latestEvents merges the latest reorgs, actions and nodes going down or
// up, newest first. The caller holds r.mu.
func latestEvents(r *Records, upDown []dashboard.Event) []dashboard.Event {
	var evs []dashboard.Event
	for i := len(r.Events) - 1; i >= 0 && len(evs) < maxDashboardEvents; i-- {
		if e := r.Events[i]; len(e.Removed) > 0 {
			evs = append(evs, dashboard.Event{TimeMs: e.TimeMs, Kind: "reorg",
				Text: fmt.Sprintf("node %d reorg: %d blocks undone, new head at %d", e.Node, len(e.Removed), e.Height)})
		}
	}
	for i := len(r.Actions) - 1; i >= 0 && i >= len(r.Actions)-maxDashboardEvents; i-- {
		a := r.Actions[i]
		evs = append(evs, dashboard.Event{TimeMs: a.TimeMs, Kind: "action", Text: a.What})
	}
	evs = append(evs, upDown[max(0, len(upDown)-maxDashboardEvents):]...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].TimeMs > evs[j].TimeMs })
	return evs[:min(len(evs), maxDashboardEvents)]
}

// recordedView is the dashboard state at the end of a recorded run: each
// node at its final head, the block tree, the links as configured and the
// run's events. The static page of a report draws it.
func recordedView(r *Records) dashboard.State {
	out := dashboard.State{Consensus: r.Consensus, TimeMs: r.EndMs, Colours: nodeColours(r.Nodes)}
	heads := map[common.Hash][]int{}
	var best *BlockRec
	for i := 0; i < r.Nodes; i++ {
		h, ok := r.FinalHeads[i]
		b := r.Blocks[h]
		n := dashboard.Node{Index: i, Alive: ok && b != nil}
		if n.Alive {
			n.Height, n.Head = b.Height, h.Hex()
			heads[h] = append(heads[h], i)
			if best == nil || b.Height > best.Height {
				best = b
			}
			if fins := r.Finalized[i]; len(fins) > 0 {
				f := fins[len(fins)-1].Height
				n.Finalized = &f
			}
		}
		out.Nodes = append(out.Nodes, n)
	}
	out.Links = recordedLinks(r)
	var top *NodeStatus
	if best != nil {
		top = &NodeStatus{Head: best.Hash, Height: best.Height}
	}
	out.Blocks = treeTail(r, top, heads)
	out.Events = latestEvents(r, nil)
	return out
}

// recordedLinks is every link as the run left it, or as it started in
// records that did not save the end.
func recordedLinks(r *Records) []dashboard.Link {
	links := r.FinalLinks
	if len(links) == 0 {
		for a := 0; a < r.Nodes; a++ {
			for b := 0; b < r.Nodes; b++ {
				if a != b {
					links = append(links, LinkRec{From: a, To: b, Params: r.Link})
				}
			}
		}
	}
	out := make([]dashboard.Link, 0, len(links))
	for _, l := range links {
		out = append(out, dashboardLink(l.From, l.To, l.Params))
	}
	return out
}

// dashboardLink is the page's view of one link.
func dashboardLink(from, to int, p LinkParams) dashboard.Link {
	return dashboard.Link{From: from, To: to, LatencyMs: float64(p.Latency.Milliseconds()), JitterMs: float64(p.Jitter.Milliseconds()), Loss: p.Loss, Cut: p.Cut}
}

// nodeColours is the CSS colour of each node: the colour the report's
// plots draw it in.
func nodeColours(nodes int) []string {
	out := make([]string, nodes)
	for i := range out {
		r, g, b, _ := nodeColour(i).RGBA()
		out[i] = fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8)
	}
	return out
}

// writeStaticDashboard writes DIR/dashboard.html, the dashboard of the
// recorded run, readable without a server.
func writeStaticDashboard(path string, r *Records) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := dashboard.WriteStatic(f, recordedView(r)); err != nil {
		f.Close()
		return fmt.Errorf("dashboard page: %w", err)
	}
	return f.Close()
}
