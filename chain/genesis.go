package chain

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Consensus names of the engines chaind has; the engines' packages register
// their genesis sections under them (RegisterEngineConfig). A genesis file
// without a consensus is proof of work.
const (
	ConsensusPoW = "pow"
	ConsensusPoS = "pos"
)

// TransferGas is the gas every transaction uses: chaind executes value
// transfers only.
const TransferGas = 21000

// Genesis is the genesis file: the chain's parameters and initial state. Its
// whole content is committed to by the genesis block hash, so two nodes agree
// on the genesis hash only if they agree on every parameter. The consensus
// engine's parameters are its own section, under the key that names the
// consensus ("pow": {...}, "pos": {...}), which the engine's package decodes,
// fills in and validates (see EngineConfig).
type Genesis struct {
	ChainID     uint64   `json:"chain_id"`
	Consensus   string   `json:"consensus"`
	BlockTime   Duration `json:"block_time"`           // target interval between blocks
	BlockReward *BigInt  `json:"block_reward"`         // wei paid to each block's producer
	BaseFee     *BigInt  `json:"base_fee"`             // fixed base fee per gas, in wei; paid to the producer
	GasLimit    uint64   `json:"gas_limit"`            // per block
	MaxFuture   Duration `json:"max_future"`           // how far ahead of the local clock a block may be; default 2 block times
	Timestamp   uint64   `json:"timestamp"`            // genesis time, Unix milliseconds
	ExtraData   string   `json:"extra_data,omitempty"` // free text, committed to by the genesis hash
	Alloc       Alloc    `json:"alloc"`                // initial balances

	// Engine is the consensus engine's section; FillDefaults gives an
	// unset one the registered engine's defaults.
	Engine EngineConfig `json:"-"`

	signerOnce sync.Once    // Signer is built once: its identity keys
	signer     types.Signer // go-ethereum's per-transaction sender cache
}

// Alloc maps addresses to their genesis accounts.
type Alloc map[common.Address]GenesisAccount

// GenesisAccount is an account funded in genesis.
type GenesisAccount struct {
	Balance *BigInt `json:"balance"`
}

// LoadGenesis reads, fills in defaults for and validates a genesis file.
func LoadGenesis(path string) (*Genesis, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	g, err := ParseGenesis(data)
	if err != nil {
		return nil, fmt.Errorf("genesis %s: %w", path, err)
	}
	return g, nil
}

// ParseGenesis decodes a genesis file, fills in defaults and validates it.
// Unknown fields are refused so that a typo does not silently change a chain
// (see UnmarshalJSON).
func ParseGenesis(data []byte) (*Genesis, error) {
	g := new(Genesis)
	if err := json.Unmarshal(data, g); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	g.FillDefaults()
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// FillDefaults sets every optional field that is unset, the engine's
// section last but for max_future, which may follow the engine's timing.
func (g *Genesis) FillDefaults() {
	if g.Consensus == "" {
		g.Consensus = ConsensusPoW
	}
	if g.Engine == nil {
		if newConfig := engineConfig(g.Consensus); newConfig != nil {
			g.Engine = newConfig()
		}
	}
	if g.BlockTime == 0 {
		g.BlockTime = Duration(time.Second)
	}
	if g.BlockReward == nil {
		g.BlockReward = NewBigInt(big.NewInt(2e18))
	}
	if g.BaseFee == nil {
		g.BaseFee = NewBigInt(big.NewInt(1e9))
	}
	if g.GasLimit == 0 {
		g.GasLimit = 30_000_000
	}
	if g.Alloc == nil {
		g.Alloc = Alloc{}
	}
	if g.Engine != nil {
		g.Engine.FillDefaults(g)
	}
	if g.MaxFuture == 0 {
		g.MaxFuture = 2 * g.BlockTime
	}
}

// Validate checks that the parameters make a working chain.
func (g *Genesis) Validate() error {
	var errs []error
	if g.ChainID == 0 {
		errs = append(errs, errors.New("chain_id must be positive"))
	}
	if err := g.checkEngine(); err != nil {
		errs = append(errs, err)
	} else if err := g.Engine.Validate(g); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", g.Consensus, err))
	}
	if g.BlockTime < Duration(time.Millisecond) {
		errs = append(errs, errors.New("block_time must be at least 1ms"))
	}
	if g.GasLimit < TransferGas {
		errs = append(errs, fmt.Errorf("gas_limit %d is below one transfer (%d)", g.GasLimit, TransferGas))
	}
	if g.BaseFee.Big().Sign() < 0 || g.BlockReward.Big().Sign() < 0 {
		errs = append(errs, errors.New("base_fee and block_reward must not be negative"))
	}
	for addr, acc := range g.Alloc {
		if acc.Balance == nil || acc.Balance.Big().Sign() < 0 || acc.Balance.Big().BitLen() > 255 {
			errs = append(errs, fmt.Errorf("alloc %s: balance must be between 0 and 2^255", addr.Hex()))
		}
	}
	return errors.Join(errs...)
}

// Hash of the genesis file's canonical JSON encoding; the genesis block uses it
// as its parent hash, so the genesis block hash commits to every parameter.
func (g *Genesis) configHash() common.Hash {
	data, err := json.Marshal(g)
	if err != nil {
		panic(fmt.Sprintf("encode genesis: %v", err)) // all fields are plain values
	}
	return crypto.Keccak256Hash(data)
}

// Block builds the genesis block and its state: the allocated balances, then
// the engine's part (GenesisInit is what it needs of the engine).
func (g *Genesis) Block(e GenesisInit) (*Block, *State) {
	st := NewState()
	for addr, acc := range g.Alloc {
		st.Set(addr, Account{Balance: new(big.Int).Set(acc.Balance.Big())})
	}
	h := &Header{
		ParentHash:  g.configHash(),
		TxRoot:      types.EmptyTxsHash,
		ReceiptRoot: types.EmptyReceiptsHash,
		Height:      0,
		Time:        g.Timestamp,
		GasLimit:    g.GasLimit,
		BaseFee:     new(big.Int).Set(g.BaseFee.Big()),
	}
	e.InitGenesis(g, h, st)
	st.ClearJournal()
	h.StateRoot = st.Root()
	return &Block{Header: h}, st
}

// GenesisInit is the part of an engine the genesis block needs.
type GenesisInit interface {
	InitGenesis(g *Genesis, h *Header, st *State)
}

// Write saves the genesis file as indented JSON.
func (g *Genesis) Write(path string) error {
	data, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return fmt.Errorf("encode genesis: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write genesis: %w", err)
	}
	return nil
}

// Signer is the transaction signer for this chain: EIP-155 legacy, EIP-2930
// and EIP-1559 transactions for ChainID. It counts the signature recoveries
// it performs (see SenderRecoveries); a recovered sender is cached in its
// transaction, so recovering it again is free and not counted.
func (g *Genesis) Signer() types.Signer {
	g.signerOnce.Do(func() {
		g.signer = countingSigner{types.LatestSignerForChainID(new(big.Int).SetUint64(g.ChainID))}
	})
	return g.signer
}

var recoveries atomic.Uint64

// SenderRecoveries is how many transaction signatures this process has
// recovered through a chain's Signer: each costs about 31 µs of CPU.
func SenderRecoveries() uint64 { return recoveries.Load() }

// countingSigner counts the signature recoveries of the signer it wraps.
type countingSigner struct{ types.Signer }

// Sender recovers the sender, counting the recovery.
func (s countingSigner) Sender(tx *types.Transaction) (common.Address, error) {
	recoveries.Add(1)
	return s.Signer.Sender(tx)
}

// Equal lets go-ethereum's per-transaction sender cache recognise the signer.
func (s countingSigner) Equal(other types.Signer) bool {
	o, ok := other.(countingSigner)
	return ok && s.Signer.Equal(o.Signer)
}

// TwoTo256 is 2^256, the size of the hash space.
var TwoTo256 = new(big.Int).Lsh(big.NewInt(1), 256)

// TargetForDifficulty is the PoW target at which a hash succeeds with
// probability 1/difficulty: 2^256/difficulty - 1, at least 0.
func TargetForDifficulty(d *big.Int) *big.Int {
	t := new(big.Int).Div(TwoTo256, d)
	t.Sub(t, big.NewInt(1))
	if t.Sign() < 0 {
		t.SetInt64(0)
	}
	return t
}

// DifficultyForTarget is the expected number of hashes to meet target:
// 2^256/(target+1).
func DifficultyForTarget(target *big.Int) *big.Int {
	return new(big.Int).Div(TwoTo256, new(big.Int).Add(target, big.NewInt(1)))
}

// Duration is a time.Duration written in JSON as a string such as "1.5s".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "1.5s" style strings or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var ms int64
		if err := json.Unmarshal(b, &ms); err != nil {
			return fmt.Errorf("duration: want a string like \"1s\" or milliseconds, got %s", b)
		}
		*d = Duration(time.Duration(ms) * time.Millisecond)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// BigInt is a big.Int written in JSON as a decimal string; it also reads hex
// strings ("0x...") and plain numbers.
type BigInt big.Int

// NewBigInt wraps x.
func NewBigInt(x *big.Int) *BigInt { return (*BigInt)(x) }

// Big returns the value as a *big.Int (zero for a nil receiver).
func (b *BigInt) Big() *big.Int {
	if b == nil {
		return new(big.Int)
	}
	return (*big.Int)(b)
}

// MarshalJSON writes a decimal string.
func (b *BigInt) MarshalJSON() ([]byte, error) { return json.Marshal(b.Big().String()) }

// UnmarshalJSON reads a decimal or 0x-hex string, or a plain number.
func (b *BigInt) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	v, ok := new(big.Int).SetString(s, 0)
	if !ok {
		return fmt.Errorf("number: cannot parse %s", data)
	}
	*b = BigInt(*v)
	return nil
}
