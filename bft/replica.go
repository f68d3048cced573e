package bft

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// Replica is a validator's machine with its crash safety: every event goes
// to the write-ahead log before the machine sees it, every message the
// machine wants to send is signed through the last-signed record, and the
// validator's own signed messages come back to its machine as received ones
// (logged like any other). A replica reopened on the same directory replays
// its log to where it was, and never signs a message that conflicts with
// one it signed before the crash.
type Replica struct {
	m      *Machine
	wal    *WAL
	signer *SafeSigner
	log    *slog.Logger
}

// Files of a replica's directory.
const (
	walFile        = "wal"
	lastSignedFile = "last_signed.json"
)

// OpenReplica opens the replica kept in dir (creating it if empty) and
// replays its log. The returned Output is what the caller must do to carry
// on: the messages the machine had produced but whose sending the log does
// not show (signed now, or re-signed identically), the timers of the
// current round, and a decision the log shows no next height for.
func OpenReplica(cfg Config, dir string, key Signer, log *slog.Logger) (*Replica, Output, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, Output{}, fmt.Errorf("bft: replica directory: %w", err)
	}
	m, err := NewMachine(cfg)
	if err != nil {
		return nil, Output{}, err
	}
	signer, err := OpenSafeSigner(cfg.ChainID, key, filepath.Join(dir, lastSignedFile))
	if err != nil {
		return nil, Output{}, err
	}
	wal, events, err := OpenWAL(filepath.Join(dir, walFile))
	if err != nil {
		return nil, Output{}, err
	}
	r := &Replica{m: m, wal: wal, signer: signer, log: log}
	var pending []Message
	var timers []Timer
	var decision *Decision
	for _, e := range events {
		if rc, ok := e.(Receive); ok && rc.Msg.Validator == cfg.Self {
			pending = withoutMessage(pending, rc.Msg)
		}
		out := m.Handle(e)
		if _, ok := e.(NewHeight); ok {
			pending, timers, decision = nil, nil, nil
		}
		pending = append(pending, out.Broadcast...)
		timers = append(timers, out.Timers...)
		if out.Decision != nil {
			decision = out.Decision
		}
	}
	resume := Output{Decision: decision}
	for _, t := range timers {
		if t.Height == m.Height() && t.Round == m.Round() {
			resume.Timers = append(resume.Timers, t)
		}
	}
	more, err := r.act(Output{Broadcast: pending})
	if err != nil {
		wal.Close()
		return nil, Output{}, err
	}
	merge(&resume, more)
	if len(events) > 0 {
		log.Info("Replayed the consensus WAL", "events", len(events), "height", m.Height(), "round", m.Round(), "step", m.Step(), "resent", len(resume.Broadcast))
	}
	return r, resume, nil
}

// withoutMessage drops from pending the unsigned message that signed is.
func withoutMessage(pending []Message, signed Message) []Message {
	for i, p := range pending {
		if p.Type == signed.Type && p.Height == signed.Height && p.Round == signed.Round &&
			p.Value == signed.Value && p.ValidRound == signed.ValidRound {
			return append(pending[:i:i], pending[i+1:]...)
		}
	}
	return pending
}

// Machine exposes the replica's state machine, to read its state.
func (r *Replica) Machine() *Machine { return r.m }

// Handle logs e, applies it, and signs what the machine sends.
func (r *Replica) Handle(e Event) (Output, error) {
	var err error
	if nh, ok := e.(NewHeight); ok {
		if !r.m.startsHeight(nh) {
			return Output{}, nil // not logged: it would start nothing
		}
		err = r.wal.StartHeight(nh)
	} else {
		rc, isMsg := e.(Receive)
		err = r.wal.Append(e, isMsg && rc.Msg.Validator == r.m.cfg.Self)
	}
	if err != nil {
		return Output{}, err
	}
	return r.act(r.m.Handle(e))
}

// act signs out's messages and feeds each back to the machine as received.
// A message the last-signed record refuses is logged and not sent: the
// machine goes on as if it were lost.
func (r *Replica) act(out Output) (Output, error) {
	res := Output{Timers: out.Timers, Decision: out.Decision, Evidence: out.Evidence}
	for _, msg := range out.Broadcast {
		signed, err := r.signer.Sign(msg)
		if errors.Is(err, ErrDoubleSign) {
			r.log.Warn("Not signing a conflicting message", "msg", msg.String(), "err", err)
			continue
		}
		if err != nil {
			return res, err
		}
		res.Broadcast = append(res.Broadcast, signed)
		more, err := r.Handle(Receive{Msg: signed})
		if err != nil {
			return res, err
		}
		merge(&res, more)
	}
	return res, nil
}

func merge(into *Output, o Output) {
	into.Broadcast = append(into.Broadcast, o.Broadcast...)
	into.Timers = append(into.Timers, o.Timers...)
	into.Evidence = append(into.Evidence, o.Evidence...)
	if o.Decision != nil {
		into.Decision = o.Decision
	}
}

// Close closes the log.
func (r *Replica) Close() error { return r.wal.Close() }
