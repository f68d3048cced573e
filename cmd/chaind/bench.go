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
		{"tx", "transfers/s through eth_sendRawTransaction, accepted and mined", benchTx, nil},
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
	OpenSSL         float64   `json:"openssl_hashes_per_second,omitempty"`
	Ratio           float64   `json:"ratio_per_thread_to_openssl,omitempty"`
}

func benchMine(args []string) error {
	fs := newFlagSet("bench mine", "bench mine [--threads N] [--seconds S] [--json]")
	threads := fs.Int("threads", 0, "mining threads (0: one per CPU)")
	seconds := fs.Float64("seconds", 5, "how long to mine at each thread count")
	asJSON := fs.Bool("json", false, "print one JSON object on the last line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n := *threads
	if n <= 0 {
		n = pow.New(0).Threads()
	}
	d := time.Duration(*seconds * float64(time.Second))
	fmt.Printf("mining a dummy template at an unreachable target (SHA-NI: %v)\n", pow.HasSHANI())
	one, _ := pow.MeasureHashrate(1, d)
	fmt.Printf("  1 thread:   %.2f M nonces/s\n", one/1e6)
	total, per := pow.MeasureHashrate(n, d)
	res := mineResult{Threads: n, HashesPerSecond: total, PerThread: per, OneThread: one, Scaling: total / one, SHANI: pow.HasSHANI()}
	for i, r := range per {
		fmt.Printf("  thread %d:   %.2f M nonces/s\n", i, r/1e6)
	}
	fmt.Printf("  %d threads:  %.2f M nonces/s in total (%.2fx one thread)\n", n, total/1e6, res.Scaling)
	if rate, err := opensslRate(*seconds); err == nil {
		res.OpenSSL = rate
		res.Ratio = one / rate
		fmt.Printf("  openssl speed -evp sha256 -bytes 64, one core: %.2f M hashes/s; chaind per thread: %.2fx\n", rate/1e6, res.Ratio)
	} else {
		fmt.Printf("  (no openssl reference: %v)\n", err)
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
