package chain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// EngineConfig is a consensus engine's section of the genesis file, as
// go-ethereum keeps Ethash's and Clique's in their own parts of its chain
// config: the engine's package defines it, and registers it under its
// consensus name (RegisterEngineConfig), so that chain names none of an
// engine's parameters. It is written as JSON under that name.
type EngineConfig interface {
	// FillDefaults sets the section's unset fields. g's common fields are
	// filled in already, but for max_future; the engine may set the ones
	// that follow its own timing (PoS: block_time is the slot).
	FillDefaults(g *Genesis)
	// Validate checks the section, after FillDefaults, against g.
	Validate(g *Genesis) error
	// Describe returns the section's parameters as chaind_consensus shows
	// them, keyed by their names there.
	Describe() map[string]any
}

var (
	engineMu      sync.RWMutex
	engineConfigs = map[string]func() EngineConfig{}
)

// RegisterEngineConfig makes name a consensus that genesis files may name,
// its section decoded into newConfig's value. Engines' packages call it from
// init; registering a name twice panics (database/sql's Register is the
// model: it is a programming error, found on the first run).
func RegisterEngineConfig(name string, newConfig func() EngineConfig) {
	engineMu.Lock()
	defer engineMu.Unlock()
	if _, dup := engineConfigs[name]; dup || name == "" || newConfig == nil {
		panic(fmt.Sprintf("chain: engine config %q registered twice, or empty", name))
	}
	engineConfigs[name] = newConfig
}

// EngineConfigs lists the registered consensus names, sorted.
func EngineConfigs() []string {
	engineMu.RLock()
	defer engineMu.RUnlock()
	return slices.Sorted(maps.Keys(engineConfigs))
}

func engineConfig(name string) func() EngineConfig {
	engineMu.RLock()
	defer engineMu.RUnlock()
	return engineConfigs[name]
}

// checkEngine reports whether g's section is the registered one of its
// consensus.
func (g *Genesis) checkEngine() error {
	newConfig := engineConfig(g.Consensus)
	switch {
	case newConfig == nil:
		return fmt.Errorf("consensus %q: want one of %v", g.Consensus, EngineConfigs())
	case g.Engine == nil:
		return fmt.Errorf("consensus %q: no %q section", g.Consensus, g.Consensus)
	case reflect.TypeOf(g.Engine) != reflect.TypeOf(newConfig()):
		return fmt.Errorf("consensus %q: the engine section is a %T, not %q's", g.Consensus, g.Engine, g.Consensus)
	}
	return nil
}

// genesisFields is Genesis without its methods: its common fields, as JSON.
type genesisFields Genesis

// commonKeys are the JSON names of the common fields.
var commonKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[genesisFields]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}()

// MarshalJSON writes the common fields, then the engine's section under
// the consensus name.
func (g *Genesis) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal((*genesisFields)(g))
	if err != nil || g.Engine == nil {
		return data, err
	}
	section, err := json.Marshal(g.Engine)
	if err != nil {
		return nil, fmt.Errorf("%s section: %w", g.Consensus, err)
	}
	key, err := json.Marshal(g.Consensus)
	if err != nil {
		return nil, err
	}
	out := append(data[:len(data)-1:len(data)-1], ',')
	out = append(append(append(out, key...), ':'), section...)
	return append(out, '}'), nil
}

// ErrFlatGenesis is the error for a genesis file with an engine parameter
// among the common fields: the layout of chaind before engine sections.
// Such a file is not read (its hash, and so its chain, would not be the
// same anyway): move the parameters into the section the error names.
var ErrFlatGenesis = errors.New("engine parameters belong in the engine's section")

// UnmarshalJSON reads a genesis file: the common fields, and the section
// named by the consensus (proof of work if none is named), decoded by the
// registered engine. Unknown fields, in either, are refused.
func (g *Genesis) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	consensus := ConsensusPoW
	if raw, ok := fields["consensus"]; ok {
		if err := json.Unmarshal(raw, &consensus); err != nil {
			return fmt.Errorf("consensus: %w", err)
		}
	}
	newConfig := engineConfig(consensus)
	if newConfig == nil {
		return fmt.Errorf("consensus %q: want one of %v", consensus, EngineConfigs())
	}
	section, hasSection := fields[consensus]
	delete(fields, consensus)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		switch {
		case commonKeys[k]:
		case engineConfig(k) != nil:
			return fmt.Errorf("a %q section in a genesis of consensus %q", k, consensus)
		case !hasSection:
			return fmt.Errorf("field %q: %w: \"%s\": {...}", k, ErrFlatGenesis, consensus)
		default:
			return fmt.Errorf("unknown field %q", k)
		}
	}
	common, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(common, (*genesisFields)(g)); err != nil {
		return err
	}
	cfg := newConfig()
	if hasSection {
		dec := json.NewDecoder(bytes.NewReader(section))
		dec.DisallowUnknownFields()
		if err := dec.Decode(cfg); err != nil {
			return fmt.Errorf("%s section: %w", consensus, err)
		}
	}
	g.Engine = cfg
	return nil
}
