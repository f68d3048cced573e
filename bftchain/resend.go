package bftchain

import (
	"time"

	"github.com/chaind/chaind/bft"
	"github.com/chaind/chaind/clock"
)

// maxHeightMsgs bounds the messages a producer keeps to send again: many
// rounds of a hundred validators' votes.
const maxHeightMsgs = 4096

// remember keeps m, a message of the current height, to send again.
func (p *Producer) remember(m bft.Message) {
	if m.Height == p.replica.Machine().Height() && len(p.heightMsgs) < maxHeightMsgs {
		p.heightMsgs = append(p.heightMsgs, m)
	}
}

// resendTimer fires when the producer has been in an undecided height for
// a precommit timeout without an event: then the messages it has may not
// have reached the others (a partition that healed, a peer that
// reconnected, a message lost), and no timeout of the machine may come
// (it waits for more than 2/3 of the stake's votes). It is nil otherwise.
func (p *Producer) resendTimer() clock.Timer {
	m := p.replica.Machine()
	if p.waiting() || m.Decided() || len(p.heightMsgs) == 0 {
		return nil
	}
	return p.clock.NewTimer(p.cfg.Engine.cfg.Precommit.D())
}

// resend sends the current height's messages again, proposals with their
// blocks, as CometBFT's reactor gossips the votes a peer lacks; a peer that
// has one drops it unread (seenSet).
func (p *Producer) resend() {
	for _, m := range p.heightMsgs {
		p.gossip(m)
	}
	p.log.Debug("Sent the height's messages again", "height", p.replica.Machine().Height(), "round", p.replica.Machine().Round(), "messages", len(p.heightMsgs))
}

// timerC is t's channel, or nil (never ready) for no timer.
func timerC(t clock.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}
