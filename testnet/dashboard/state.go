package dashboard

// State is one snapshot of a testnet, as the page draws it.
type State struct {
	Consensus string  `json:"consensus"`
	TimeMs    int64   `json:"timeMs"`
	Nodes     []Node  `json:"nodes"`
	Links     []Link  `json:"links"`  // every ordered pair of nodes
	Blocks    []Block `json:"blocks"` // the latest heights of the block tree
	Events    []Event `json:"events"` // the latest first
	// Colours is each node's colour (CSS), the one the report's plots
	// give it.
	Colours []string `json:"colours"`
}

// Node is one node's line.
type Node struct {
	Index     int     `json:"index"`
	Alive     bool    `json:"alive"`
	Height    uint64  `json:"height"`
	Head      string  `json:"head"`
	Peers     int     `json:"peers"`
	Pending   int     `json:"pending"`
	Finalized *uint64 `json:"finalized"` // nil: nothing finalized
	RPC       string  `json:"rpc"`
}

// Link is one direction of the link between two nodes.
type Link struct {
	From      int     `json:"from"`
	To        int     `json:"to"`
	LatencyMs float64 `json:"latencyMs"`
	JitterMs  float64 `json:"jitterMs"`
	Loss      float64 `json:"loss"`
	Cut       bool    `json:"cut"`
}

// Block is one block of the tree.
type Block struct {
	Hash      string `json:"hash"`
	Parent    string `json:"parent"`
	Height    uint64 `json:"height"`
	Producer  int    `json:"producer"`  // node index; -1 unknown (genesis)
	Canonical bool   `json:"canonical"` // on the chain of the highest live head
	Row       int    `json:"row"`       // 0: the canonical chain; each side branch has a row of its own
	Heads     []int  `json:"heads"`     // nodes whose head it is
}

// Event is something that happened: a reorg, a partition, a crash.
type Event struct {
	TimeMs int64  `json:"timeMs"`
	Kind   string `json:"kind"` // reorg, action, down, up
	Text   string `json:"text"`
}
