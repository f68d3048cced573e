package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/chaind/chaind/pow"
)

func benchCommands() []command {
	return []command{
		{"mine", "the miner: nonces/s per thread and in total, against openssl's SHA-256", benchMine, nil},
		{"tx", "transfers/s through eth_sendRawTransaction, accepted (and mined), with admission latency", benchTx, nil},
	}
}

// printJSON writes v as one JSON line (the last line of a --json run).
func printJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Println(string(data))
	return nil
}

type mineResult struct {
	Threads         int       `json:"threads"`
	HashesPerSecond float64   `json:"hashes_per_second"`
	PerThread       []float64 `json:"per_thread"`
	OneThread       float64   `json:"one_thread_hashes_per_second"`
	Scaling         float64   `json:"scaling"` // total / one thread
	SHANI           bool      `json:"sha_ni"`
	OneThreadCPU    float64   `json:"one_thread_hashes_per_cpu_second,omitempty"` // per second of the thread's CPU time
	OpenSSL         float64   `json:"openssl_hashes_per_second,omitempty"`        // per second of CPU user time, as openssl speed measures
	Ratio           float64   `json:"ratio_per_thread_to_openssl,omitempty"`      // OneThreadCPU / OpenSSL`
}

func benchMine(args []string) error {
	fs := newFlagSet("bench mine", "bench mine [--threads N] [--seconds S] [--rounds R] [--json]")
	threads := fs.Int("threads", 0, "mining threads (0: one per CPU)")
	seconds := fs.Float64("seconds", 5, "how long to mine at each thread count")
	rounds := fs.Int("rounds", 3, "rounds of (one thread, all threads, openssl), back to back; each figure is the best round's")
	asJSON := fs.Bool("json", false, "print one JSON object on the last line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n := *threads
	if n <= 0 {
		n = pow.New(0).Threads()
	}
	d := time.Duration(*seconds * float64(time.Second))
	fmt.Printf("mining a dummy template at an unreachable target (SHA-NI: %v); best of %d rounds, since other load only ever lowers a rate;\n"+
		"the comparison with openssl divides both by CPU time (openssl speed's default), wall-clock rates depend on the machine's load\n", pow.HasSHANI(), *rounds)
	res := mineResult{Threads: n, SHANI: pow.HasSHANI()}
	var opensslErr error
	for round := 1; round <= max(*rounds, 1); round++ {
		one, _ := pow.MeasureHashrate(1, d)
		total, per := pow.MeasureHashrate(n, d)
		line := fmt.Sprintf("  round %d: 1 thread %.2f M nonces/s, %d threads %.2f M", round, one/1e6, n, total/1e6)
		if cpu, ok := pow.MeasureThreadCPU(d); ok {
			res.OneThreadCPU = max(res.OneThreadCPU, cpu)
			line += fmt.Sprintf(", 1 thread %.2f M per CPU second", cpu/1e6)
		}
		res.OneThread = max(res.OneThread, one)
		if total > res.HashesPerSecond {
			res.HashesPerSecond, res.PerThread = total, per
		}
		if rate, err := opensslRate(*seconds); err == nil {
			res.OpenSSL = max(res.OpenSSL, rate)
			line += fmt.Sprintf(", openssl %.2f M hashes/s", rate/1e6)
		} else {
			opensslErr = err
		}
		fmt.Println(line)
	}
	res.Scaling = res.HashesPerSecond / res.OneThread
	fmt.Printf("  1 thread:   %.2f M nonces/s\n", res.OneThread/1e6)
	for i, r := range res.PerThread {
		fmt.Printf("  thread %d:   %.2f M nonces/s\n", i, r/1e6)
	}
	fmt.Printf("  %d threads:  %.2f M nonces/s in total (%.2fx one thread)\n", n, res.HashesPerSecond/1e6, res.Scaling)
	if res.OpenSSL > 0 && res.OneThreadCPU > 0 {
		res.Ratio = res.OneThreadCPU / res.OpenSSL
		fmt.Printf("  per second of CPU time: chaind 1 thread %.2f M nonces, openssl speed -evp sha256 -bytes 64 %.2f M hashes; chaind per thread: %.2fx\n",
			res.OneThreadCPU/1e6, res.OpenSSL/1e6, res.Ratio)
	} else {
		fmt.Printf("  (no openssl reference: %v)\n", opensslErr)
	}
	if *asJSON {
		return printJSON(res)
	}
	return nil
}

// opensslRate runs openssl's 64-byte SHA-256 benchmark on one core and
// returns hashes per second.
func opensslRate(seconds float64) (float64, error) {
	path, err := exec.LookPath("openssl")
	if err != nil {
		return 0, err
	}
	secs := strconv.Itoa(max(int(seconds), 1))
	out, err := exec.Command(path, "speed", "-evp", "sha256", "-bytes", "64", "-seconds", secs).Output()
	if err != nil {
		return 0, fmt.Errorf("openssl speed: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 2 || !strings.HasSuffix(f[len(f)-1], "k") {
		return 0, fmt.Errorf("openssl speed: unexpected output %q", bytes.TrimSpace(out))
	}
	kb, err := strconv.ParseFloat(strings.TrimSuffix(f[len(f)-1], "k"), 64)
	if err != nil {
		return 0, err
	}
	return kb * 1000 / 64, nil
}
