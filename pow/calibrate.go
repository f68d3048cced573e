package pow

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// HasSHANI reports whether the miner uses the CPU's SHA instructions.
func HasSHANI() bool { return hasSHANI }

// MeasureHashrate runs the nonce loop on a dummy seal hash at an unreachable
// target on threads workers for about d and returns nonces per second in total
// and per worker.
func MeasureHashrate(threads int, d time.Duration) (total float64, perThread []float64) {
	var sealHash [32]byte
	for i := range sealHash {
		sealHash[i] = byte(i * 7)
	}
	tmpl := newTemplate(sealHash)
	var zero [8]uint32 // no hash is <= 0 in practice
	var stop atomic.Bool
	counts := make([]atomic.Uint64, threads)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < threads; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w := scanner{tmpl: &tmpl, target: &zero, stop: &stop, hashes: &counts[i]}
			w.scan(uint64(i)<<56, ^uint64(0)>>8)
		}(i)
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	perThread = make([]float64, threads)
	for i := range counts {
		perThread[i] = float64(counts[i].Load()) / elapsed
		total += perThread[i]
	}
	return total, perThread
}

// Capacity is what threads workers can hash on this machine, in nonces per
// second: the best of capacityProbes probes of 100 ms each. Other load only
// ever lowers a probe, so the best one is the machine's rate when it is not
// busy; callers declare a fraction of it as a miner's hash rate and hold the
// miner to that (EngineConfig.Hashrate).
func Capacity(threads int) float64 {
	best := 0.0
	for range capacityProbes {
		total, _ := MeasureHashrate(threads, 100*time.Millisecond)
		best = max(best, total)
	}
	return best
}

// capacityProbes is how many probes Capacity takes.
const capacityProbes = 5

// MeasureThreadCPU runs the nonce loop on one worker locked to its OS thread
// for about d and returns nonces per second of that thread's CPU time, the
// divisor openssl speed uses, so that other load on the machine does not
// lower it. ok is false where a thread's CPU time cannot be read.
func MeasureThreadCPU(d time.Duration) (rate float64, ok bool) {
	tmpl := newTemplate([32]byte{})
	var zero [8]uint32
	var stop atomic.Bool
	var count atomic.Uint64
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	done := make(chan struct{})
	var used time.Duration
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		t0, ok0 := threadCPUTime()
		w := scanner{tmpl: &tmpl, target: &zero, stop: &stop, hashes: &count}
		w.scan(0, ^uint64(0)>>8)
		t1, ok1 := threadCPUTime()
		if ok = ok0 && ok1; ok {
			used = t1 - t0
		}
	}()
	<-done
	if !ok || used <= 0 {
		return 0, false
	}
	return float64(count.Load()) / used.Seconds(), true
}
