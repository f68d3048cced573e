package wallet

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1.5eth", "20gwei", "1000", "0x3e8", "1e3wei", "-1", "0.1wei", " 2 ETH "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return // flags and RPC fields are short; big.Rat's own limits apply beyond
		}
		v, err := ParseAmount(s)
		if err != nil {
			return
		}
		if v.Sign() < 0 {
			t.Fatalf("%q parsed to a negative amount %v", s, v)
		}
		if again, err := ParseAmount(v.String()); err != nil || again.Cmp(v) != 0 {
			t.Fatalf("%q: %v does not parse back (%v, %v)", s, v, again, err)
		}
	})
}

func FuzzParseHexKey(f *testing.F) {
	f.Add("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	f.Add("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n")
	f.Add("0x00")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseHexKey(s); err == nil && len(s) < 64 {
			t.Fatalf("%q: a key from fewer than 64 hex digits", s)
		}
	})
}

// FuzzKeyFileAddress reads hostile key files. Decryption itself is not
// fuzzed: its cost is set by the file's scrypt parameters (see the report in
// docs/performance.md).
func FuzzKeyFileAddress(f *testing.F) {
	f.Add([]byte(`{"address":"7e5f4552091a69125d5dfcb7b8c2659029395bdf","crypto":{"cipher":"aes-128-ctr"},"version":3}`))
	f.Add([]byte(`{"address":"0x7e5f4552091a69125d5dfcb7b8c2659029395bdf","crypto":null}`))
	f.Add([]byte(`[]`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "key.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		KeyFileAddress(path)
	})
}
