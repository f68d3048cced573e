package clock

import (
	"context"
	"testing"
	"time"
)

var epoch = time.Unix(1_700_000_000, 0)

func TestSimFiresInDeadlineOrder(t *testing.T) {
	s := NewSim(epoch)
	var got []string
	s.AfterFunc(3*time.Second, func() { got = append(got, "c") })
	s.AfterFunc(time.Second, func() { got = append(got, "a") })
	s.AfterFunc(time.Second, func() { got = append(got, "b") }) // same deadline: armed later, fires later
	stopped := s.AfterFunc(2*time.Second, func() { got = append(got, "never") })
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	s.Advance(2 * time.Second)
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("after 2s fired %v, want [a b]", got)
	}
	if now := s.Now(); !now.Equal(epoch.Add(2 * time.Second)) {
		t.Fatalf("Now = %v, want epoch+2s", now)
	}
	s.Advance(time.Hour)
	if len(got) != 3 || got[2] != "c" {
		t.Fatalf("fired %v, want [a b c]", got)
	}
	if s.Pending() != 0 {
		t.Fatalf("%d timers still armed", s.Pending())
	}
}

func TestSimCallbackSeesItsDeadlineAndMayRearm(t *testing.T) {
	s := NewSim(epoch)
	var at []time.Duration
	var tick func()
	tick = func() {
		at = append(at, s.Now().Sub(epoch))
		if len(at) < 3 {
			s.AfterFunc(time.Second, tick)
		}
	}
	s.AfterFunc(time.Second, tick)
	s.Advance(10 * time.Second)
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	if len(at) != len(want) {
		t.Fatalf("fired at %v, want %v", at, want)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Fatalf("fired at %v, want %v", at, want)
		}
	}
}

func TestSimTickerDropsMissedTicks(t *testing.T) {
	s := NewSim(epoch)
	k := s.NewTicker(time.Second)
	s.Advance(5 * time.Second) // five ticks, the channel holds one
	select {
	case v := <-k.C():
		if !v.Equal(epoch.Add(time.Second)) {
			t.Fatalf("first tick at %v, want epoch+1s", v)
		}
	default:
		t.Fatal("no tick")
	}
	select {
	case <-k.C():
		t.Fatal("missed ticks were queued")
	default:
	}
	k.Reset(10 * time.Second)
	s.Advance(9 * time.Second)
	select {
	case <-k.C():
		t.Fatal("tick before the new period")
	default:
	}
	s.Advance(time.Second)
	<-k.C()
	k.Stop()
	if s.Pending() != 0 {
		t.Fatal("stopped ticker still armed")
	}
}

func TestSimStepAndTimerReset(t *testing.T) {
	s := NewSim(epoch)
	tm := s.NewTimer(time.Minute)
	if tm.Reset(time.Second) != true {
		t.Fatal("Reset of a pending timer reported false")
	}
	if !s.Step() {
		t.Fatal("Step found no timer")
	}
	if got := <-tm.C(); !got.Equal(epoch.Add(time.Second)) {
		t.Fatalf("fired at %v, want epoch+1s", got)
	}
	if s.Step() {
		t.Fatal("Step fired a timer that was not armed")
	}
	if tm.Stop() {
		t.Fatal("Stop of a fired timer reported true")
	}
}

func TestSleepAndBlockUntil(t *testing.T) {
	s := NewSim(epoch)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, s, time.Hour) }()
	if err := s.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.Advance(time.Hour)
	if err := <-done; err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	cctx, ccancel := context.WithCancel(ctx)
	go func() { done <- Sleep(cctx, s, time.Hour) }()
	if err := s.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	ccancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("cancelled Sleep returned %v", err)
	}
}

func TestRealClockTimers(t *testing.T) {
	c := OrReal(nil)
	tm := c.NewTimer(time.Millisecond)
	<-tm.C()
	fired := make(chan struct{})
	c.AfterFunc(time.Millisecond, func() { close(fired) })
	<-fired
	k := c.NewTicker(time.Millisecond)
	<-k.C()
	k.Stop()
}
