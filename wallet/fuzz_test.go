package wallet

import (
	"bytes"
	"errors"
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

// FuzzKeyFileAddress reads hostile key files.
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

// FuzzCheckKeyFile checks hostile key files: whatever passes the check asks
// for no more than the bounds, and decrypting it (done here when its cost is
// small) returns an error or a key, never a panic.
func FuzzCheckKeyFile(f *testing.F) {
	for _, name := range []string{"pbkdf2-vector.json", "scrypt-vector.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "keyfiles", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	light, err := lightKeyFileJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(light)
	f.Add(bytes.Replace(light, []byte(`"n":4096`), []byte(`"n":1073741824`), 1))
	f.Add(bytes.Replace(light, []byte(`"dklen":32`), []byte(`"dklen":16`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := parseKeyFile(data)
		if err != nil {
			if !errors.Is(err, ErrBadKeyFile) {
				t.Fatalf("refusal without ErrBadKeyFile: %v", err)
			}
			return
		}
		p := kf.crypto.KDFParams
		var cost int
		if kf.crypto.KDF == "scrypt" {
			n, r := p["n"].(int), p["r"].(int)
			if 128*n*r > MaxScryptMemory || n*r*p["p"].(int) > MaxScryptWork {
				t.Fatalf("accepted scrypt n=%d r=%d p=%d", n, r, p["p"])
			}
			cost = n * r * p["p"].(int)
		} else {
			if cost = p["c"].(int); cost > MaxPBKDF2Rounds {
				t.Fatalf("accepted pbkdf2 c=%d", cost)
			}
		}
		if cost <= 1<<12 {
			decryptKeyFile("fuzz", data, "pw")
		}
	})
}
