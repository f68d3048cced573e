package bft

import (
	"container/heap"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func noByzantine(*rand.Rand, []int64) map[int]behaviour { return map[int]behaviour{} }

// runWithRestarts plays s with validator 0 as a replica on disk in dir,
// crashed and reopened at random moments (about one of its events in
// thirty). With wipe, each restart loses the replica's files, as a
// validator without a WAL and last-signed record would, and restarts at
// the height after its last decision.
func runWithRestarts(t *testing.T, s scenario, dir string, wipe bool) (outcome, int) {
	t.Helper()
	w := newWorld(s)
	n := w.nodes[0]
	key := Ed25519Signer{Key: w.keys[0]}
	cfg := Config{ChainID: testChain, Validators: w.vals, Self: 0, Timeouts: explorerTimeouts}
	log := slog.New(slog.DiscardHandler)
	open := func() {
		rep, resume, err := OpenReplica(cfg, dir, key, log)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		n.rep, n.m = rep, rep.Machine()
		w.act(n, resume)
		if rep.Machine().Height() == 0 {
			var h Height = 1
			for n.decisions[h].Height == h {
				h++
			}
			w.push(w.now, 0, NewHeight{Height: h, Value: valueOf(0, h, uint64(len(n.signed))+1)})
		}
	}
	open()
	crashes := 0
	crash := rand.New(rand.NewPCG(s.seed, 0x637261736821))
	for !w.done() && w.events < maxEvents && w.step() {
		w.events++
		if w.err != nil {
			t.Fatalf("replica: %v", w.err)
		}
		if crash.IntN(30*len(w.nodes)) != 0 {
			continue
		}
		crashes++
		before := stateOf(n.m)
		if err := n.rep.Close(); err != nil {
			t.Fatal(err)
		}
		if wipe {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}
		// The crash loses the replica's timers; its links keep what is in
		// flight.
		kept := w.queue[:0]
		for _, e := range w.queue {
			if _, isTimer := e.ev.(Timeout); !(isTimer && e.node == 0) {
				kept = append(kept, e)
			}
		}
		w.queue = kept
		heap.Init(&w.queue)
		open()
		if after := stateOf(n.m); !wipe && after != before {
			t.Fatalf("replayed to %+v, was at %+v", after, before)
		}
	}
	return w.outcome(s), crashes
}

// machineState is what a replayed machine must get back.
type machineState struct {
	height                  Height
	round                   Round
	step                    Step
	decided                 bool
	locked, valid           Value
	lockedRound, validRound Round
}

func stateOf(m *Machine) machineState {
	s := machineState{height: m.Height(), round: m.Round(), step: m.Step(), decided: m.Decided()}
	s.locked, s.lockedRound = m.Locked()
	s.valid, s.validRound = m.Valid()
	return s
}

// doubleSigned returns two different messages msgs holds for one (type,
// height, round), if any.
func doubleSigned(msgs []Message) (a, b Message, found bool) {
	first := map[voteKey]Message{}
	for _, m := range msgs {
		k := voteKey{m.Type, m.Height, m.Round, m.Validator}
		if f, ok := first[k]; ok && string(f.SignBytes(testChain)) != string(m.SignBytes(testChain)) {
			return f, m, true
		}
		first[k] = m
	}
	return Message{}, Message{}, false
}

// TestRestartMidHeightNeverDoubleSigns crashes a validator on disk at
// random points of many schedules and reopens it on its files: it never
// signs two different messages for one height, round and step, comes back
// to the height, round, step, lock and valid value it crashed in, and every
// honest validator still decides every height. The control run, which
// loses the files at each crash, double-signs: the check has teeth.
func TestRestartMidHeightNeverDoubleSigns(t *testing.T) {
	const runs = 12
	crashes, controlDoubles := 0, 0
	for i := range runs {
		s := newScenario(uint64(i)+1, noByzantine)
		o, c := runWithRestarts(t, s, filepath.Join(t.TempDir(), "replica"), false)
		crashes += c
		if a, b, found := doubleSigned(o.w.nodes[0].signed); found {
			t.Fatalf("double sign after a restart:\n%s\n%s\n%s", a, b, s)
		}
		if !o.finished {
			t.Fatalf("not every honest validator decided %d heights\n%s", explorerHeights, s)
		}
		if h, why := o.fork(); h != 0 {
			t.Fatalf("safety: %s\n%s", why, s)
		}
		o, _ = runWithRestarts(t, s, filepath.Join(t.TempDir(), "wiped"), true)
		if _, _, found := doubleSigned(o.w.nodes[0].signed); found {
			controlDoubles++
		}
	}
	t.Logf("%d schedules, %d crashes: no double sign; without the files, %d schedules double-signed", runs, crashes, controlDoubles)
	if crashes == 0 || controlDoubles == 0 {
		t.Fatalf("%d crashes, %d control double signs: the test tested nothing", crashes, controlDoubles)
	}
}

// TestReplicaResendsWhatItSignedBeforeLogging cuts the replica's log back
// to before its own last vote, as a crash between signing and logging
// leaves it: the reopened replica replays, produces the same vote, and the
// last-signed record gives it the same signature rather than refusing.
func TestReplicaResendsWhatItSignedBeforeLogging(t *testing.T) {
	s := newScenario(7, noByzantine)
	w := newWorld(s)
	dir := t.TempDir()
	cfg := Config{ChainID: testChain, Validators: w.vals, Self: 0, Timeouts: explorerTimeouts}
	log := slog.New(slog.DiscardHandler)
	rep, _, err := OpenReplica(cfg, dir, Ed25519Signer{Key: w.keys[0]}, log)
	if err != nil {
		t.Fatal(err)
	}
	proposer := NewProposers(w.vals, 1).Of(0)
	v := valueOf(proposer, 1, 0)
	if _, err := rep.Handle(NewHeight{Height: 1, Value: valueOf(0, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	prop := w.sign(Message{Type: TypeProposal, Height: 1, Round: 0, Value: v, ValidRound: NoRound, Validator: proposer})
	if proposer == 0 {
		t.Skip("validator 0 proposes in this set; the test needs another proposer")
	}
	sizeBefore := fileSize(t, filepath.Join(dir, walFile))
	out, err := rep.Handle(Receive{Msg: prop})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Broadcast) != 1 || out.Broadcast[0].Type != TypePrevote || out.Broadcast[0].Value != v {
		t.Fatalf("want a prevote for the proposal, got %v", out.Broadcast)
	}
	rep.Close()
	// Keep the proposal's record, lose the own prevote's: the crash came
	// after signing, before logging.
	walBytes, err := os.ReadFile(filepath.Join(dir, walFile))
	if err != nil {
		t.Fatal(err)
	}
	events, _, _ := func() ([]Event, int64, error) {
		f, err := os.Open(filepath.Join(dir, walFile))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return readWAL(f)
	}()
	propRecord, err := encodeRecord(events[1])
	if err != nil {
		t.Fatal(err)
	}
	cut := sizeBefore + int64(len(propRecord))
	if err := os.WriteFile(filepath.Join(dir, walFile), walBytes[:cut], 0o600); err != nil {
		t.Fatal(err)
	}
	rep, resume, err := OpenReplica(cfg, dir, Ed25519Signer{Key: w.keys[0]}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	if len(resume.Broadcast) != 1 || string(resume.Broadcast[0].Sig) != string(out.Broadcast[0].Sig) {
		t.Fatalf("reopened replica sends %v, want the same signed prevote %v", resume.Broadcast, out.Broadcast[0])
	}
	if rep.Machine().Step() != StepPrevote {
		t.Fatalf("reopened replica at step %s, want prevote", rep.Machine().Step())
	}
	if len(resume.Timers) == 0 {
		t.Fatalf("reopened replica re-arms no timer")
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
