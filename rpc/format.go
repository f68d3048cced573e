package rpc

import (
	"encoding/json"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// The JSON shapes below follow Ethereum's, with every field ethers.js v6 and
// go-ethereum's ethclient read. A header shows every field of the Ethereum
// header it maps to (chain.Header.Ethereum), so that a client recomputing the
// hash from them gets the block hash. Fields chaind has no use for (uncles,
// logs, mix hash) carry their empty values.

// headerJSON is a block header as eth_getHeaderByNumber and the newHeads
// subscription show it; go-ethereum's types.Header decodes it.
type headerJSON struct {
	Number           hexutil.Uint64   `json:"number"`
	Hash             common.Hash      `json:"hash"`
	ParentHash       common.Hash      `json:"parentHash"`
	Nonce            types.BlockNonce `json:"nonce"`
	MixHash          common.Hash      `json:"mixHash"`
	Sha3Uncles       common.Hash      `json:"sha3Uncles"`
	LogsBloom        types.Bloom      `json:"logsBloom"`
	TransactionsRoot common.Hash      `json:"transactionsRoot"`
	StateRoot        common.Hash      `json:"stateRoot"`
	ReceiptsRoot     common.Hash      `json:"receiptsRoot"`
	Miner            common.Address   `json:"miner"`
	Difficulty       *hexutil.Big     `json:"difficulty"`
	TotalDifficulty  *hexutil.Big     `json:"totalDifficulty"`
	ExtraData        hexutil.Bytes    `json:"extraData"`
	GasLimit         hexutil.Uint64   `json:"gasLimit"`
	GasUsed          hexutil.Uint64   `json:"gasUsed"`
	Timestamp        hexutil.Uint64   `json:"timestamp"`
	BaseFeePerGas    *hexutil.Big     `json:"baseFeePerGas"`
	// chaind's own fields.
	TimestampMs hexutil.Uint64 `json:"timestampMs"`
	Bits        hexutil.Uint64 `json:"bits"`
	Seal        hexutil.Bytes  `json:"seal,omitempty"`
}

// blockJSON is a block: its header, size, transactions and (no) uncles.
type blockJSON struct {
	*headerJSON
	Size         hexutil.Uint64 `json:"size"`
	Transactions []any          `json:"transactions"`
	Uncles       []common.Hash  `json:"uncles"`
}

func (a *api) formatHeader(b *chain.Block) (*headerJSON, error) {
	h := b.Header
	e := h.Ethereum()
	hash := e.Hash()
	td, err := a.Chain.Weight(hash)
	if err != nil {
		return nil, err
	}
	return &headerJSON{
		Number:           hexutil.Uint64(h.Height),
		Hash:             hash,
		ParentHash:       e.ParentHash,
		Nonce:            e.Nonce,
		MixHash:          e.MixDigest,
		Sha3Uncles:       e.UncleHash,
		LogsBloom:        e.Bloom,
		TransactionsRoot: e.TxHash,
		StateRoot:        e.Root,
		ReceiptsRoot:     e.ReceiptHash,
		Miner:            e.Coinbase,
		Difficulty:       (*hexutil.Big)(e.Difficulty),
		TotalDifficulty:  (*hexutil.Big)(td),
		ExtraData:        e.Extra,
		GasLimit:         hexutil.Uint64(e.GasLimit),
		GasUsed:          hexutil.Uint64(e.GasUsed),
		Timestamp:        hexutil.Uint64(e.Time),
		BaseFeePerGas:    (*hexutil.Big)(e.BaseFee),
		TimestampMs:      hexutil.Uint64(h.Time),
		Bits:             hexutil.Uint64(h.Bits),
		Seal:             h.Seal,
	}, nil
}

func (a *api) formatBlock(b *chain.Block, fullTx bool) (*blockJSON, error) {
	h, err := a.formatHeader(b)
	if err != nil {
		return nil, err
	}
	enc, err := b.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out := &blockJSON{headerJSON: h, Size: hexutil.Uint64(len(enc)), Transactions: make([]any, len(b.Txs)), Uncles: []common.Hash{}}
	for i, tx := range b.Txs {
		if fullTx {
			out.Transactions[i] = a.formatTx(tx, &chain.TxLocation{Block: b, Index: i})
		} else {
			out.Transactions[i] = tx.Hash()
		}
	}
	return out, nil
}

// formatTx renders tx; loc is nil for a pending transaction.
func (a *api) formatTx(tx *types.Transaction, loc *chain.TxLocation) map[string]any {
	g := a.Chain.Genesis()
	var m map[string]any
	data, err := tx.MarshalJSON()
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	if err != nil {
		m = map[string]any{"hash": tx.Hash()}
	}
	from, _ := g.Sender(tx)
	m["from"] = from
	m["blockHash"], m["blockNumber"], m["transactionIndex"] = nil, nil, nil
	if loc != nil {
		m["blockHash"] = loc.Block.Hash()
		m["blockNumber"] = hexutil.Uint64(loc.Block.Height())
		m["transactionIndex"] = hexutil.Uint64(loc.Index)
		m["gasPrice"] = (*hexutil.Big)(g.EffectiveGasPrice(tx))
	} else if tx.Type() == types.DynamicFeeTxType {
		m["gasPrice"] = (*hexutil.Big)(tx.GasFeeCap())
	}
	return m
}

type receiptJSON struct {
	TransactionHash   common.Hash     `json:"transactionHash"`
	TransactionIndex  hexutil.Uint64  `json:"transactionIndex"`
	BlockHash         common.Hash     `json:"blockHash"`
	BlockNumber       hexutil.Uint64  `json:"blockNumber"`
	From              common.Address  `json:"from"`
	To                *common.Address `json:"to"`
	CumulativeGasUsed hexutil.Uint64  `json:"cumulativeGasUsed"`
	GasUsed           hexutil.Uint64  `json:"gasUsed"`
	EffectiveGasPrice *hexutil.Big    `json:"effectiveGasPrice"`
	ContractAddress   *common.Address `json:"contractAddress"`
	Logs              []*types.Log    `json:"logs"`
	LogsBloom         types.Bloom     `json:"logsBloom"`
	Type              hexutil.Uint64  `json:"type"`
	Status            hexutil.Uint64  `json:"status"`
}

func (a *api) formatReceipt(tx *types.Transaction, loc chain.TxLocation) *receiptJSON {
	g := a.Chain.Genesis()
	from, _ := g.Sender(tx)
	return &receiptJSON{
		TransactionHash:   tx.Hash(),
		TransactionIndex:  hexutil.Uint64(loc.Index),
		BlockHash:         loc.Block.Hash(),
		BlockNumber:       hexutil.Uint64(loc.Block.Height()),
		From:              from,
		To:                tx.To(),
		CumulativeGasUsed: hexutil.Uint64(uint64(loc.Index+1) * chain.TransferGas),
		GasUsed:           chain.TransferGas,
		EffectiveGasPrice: (*hexutil.Big)(g.EffectiveGasPrice(tx)),
		Logs:              []*types.Log{},
		Type:              hexutil.Uint64(tx.Type()),
		Status:            hexutil.Uint64(types.ReceiptStatusSuccessful),
	}
}
