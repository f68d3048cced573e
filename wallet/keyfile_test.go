package wallet

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
)

// The Web3 Secret Storage test vectors' key and password.
const (
	vectorKey      = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
	vectorPassword = "testpassword"
)

// TestKeyFileVectorDecrypts decrypts the PBKDF2 vector (the scrypt one, at
// geth's standard work, is only checked below: it takes seconds on a busy
// machine, and a light scrypt file decrypts in TestKeystoreRoundTrip).
func TestKeyFileVectorDecrypts(t *testing.T) {
	path := filepath.Join("testdata", "keyfiles", "pbkdf2-vector.json")
	key, err := LoadKeyFile(path, vectorPassword)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(crypto.FromECDSA(key)); got != vectorKey {
		t.Fatalf("key %s, want %s", got, vectorKey)
	}
	if _, err := LoadKeyFile(path, "wrong"); !errors.Is(err, keystore.ErrDecrypt) {
		t.Fatalf("wrong password: %v", err)
	}
}

// lightKeyFileJSON is the vector key written by go-ethereum with the light
// parameters and password "pw".
var lightKeyFileJSON = sync.OnceValues(func() ([]byte, error) {
	key, err := ParseHexKey(vectorKey)
	if err != nil {
		return nil, err
	}
	return keystore.EncryptKey(&keystore.Key{Id: uuid.New(), Address: crypto.PubkeyToAddress(key.PublicKey), PrivateKey: key},
		"pw", keystore.LightScryptN, keystore.LightScryptP)
})

// lightKeyFile returns a fresh copy of lightKeyFileJSON as an object to edit.
func lightKeyFile(t testing.TB) map[string]any {
	t.Helper()
	data, err := lightKeyFileJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// edit sets the value at a dotted path ("crypto.kdfparams.n") of a key file,
// or deletes it when v is nil.
func edit(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	if v == nil {
		delete(m, parts[len(parts)-1])
	} else {
		m[parts[len(parts)-1]] = v
	}
}

func TestKeyFileParametersWithinBoundsAccepted(t *testing.T) {
	for _, c := range []struct {
		name    string
		n, r, p int
	}{
		{"geth standard", keystore.StandardScryptN, 8, keystore.StandardScryptP},
		{"geth light", keystore.LightScryptN, 8, keystore.LightScryptP},
		{"test vector", 1 << 18, 1, 8},
		{"smallest", 2, 1, 1},
		{"light cost, more passes", 1 << 12, 8, 64},
	} {
		m := lightKeyFile(t)
		edit(m, "crypto.kdfparams.n", c.n)
		edit(m, "crypto.kdfparams.r", c.r)
		edit(m, "crypto.kdfparams.p", c.p)
		data, _ := json.Marshal(m)
		if err := CheckKeyFile(data); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	for _, name := range []string{"scrypt-vector.json", "pbkdf2-vector.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "keyfiles", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckKeyFile(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// hostileEdits are key files that must be refused before any key is
// derived: out-of-bound costs, and shapes that crash go-ethereum's
// decrypter (a short dklen, IV or ciphertext; a missing salt).
var hostileEdits = []struct {
	name string
	set  map[string]any // dotted path -> value; nil deletes
}{
	{"n=2^30", map[string]any{"crypto.kdfparams.n": 1 << 30}},
	{"n=2^19 (twice geth's standard)", map[string]any{"crypto.kdfparams.n": 1 << 19}},
	{"n=2^62", map[string]any{"crypto.kdfparams.n": 1 << 62}},
	{"n beyond int64", map[string]any{"crypto.kdfparams.n": json.Number("1e30")}},
	{"n not a power of two", map[string]any{"crypto.kdfparams.n": 4095}},
	{"n fractional", map[string]any{"crypto.kdfparams.n": json.Number("4096.5")}},
	{"n as a string", map[string]any{"crypto.kdfparams.n": "4096"}},
	{"n negative", map[string]any{"crypto.kdfparams.n": -4096}},
	{"n missing", map[string]any{"crypto.kdfparams.n": nil}},
	{"r=2^20", map[string]any{"crypto.kdfparams.r": 1 << 20}},
	{"r=0", map[string]any{"crypto.kdfparams.r": 0}},
	{"p=2^40", map[string]any{"crypto.kdfparams.p": 1 << 40}},
	{"p=65 (over the work bound)", map[string]any{"crypto.kdfparams.p": 65}},
	{"dklen=31", map[string]any{"crypto.kdfparams.dklen": 31}},
	{"dklen=16", map[string]any{"crypto.kdfparams.dklen": 16}},
	{"dklen=2^40", map[string]any{"crypto.kdfparams.dklen": 1 << 40}},
	{"salt missing", map[string]any{"crypto.kdfparams.salt": nil}},
	{"salt a number", map[string]any{"crypto.kdfparams.salt": 7}},
	{"salt not hex", map[string]any{"crypto.kdfparams.salt": "zz"}},
	{"salt 1 KiB", map[string]any{"crypto.kdfparams.salt": strings.Repeat("ab", 1024)}},
	{"iv 15 bytes", map[string]any{"crypto.cipherparams.iv": strings.Repeat("ab", 15)}},
	{"ciphertext 31 bytes", map[string]any{"crypto.ciphertext": strings.Repeat("ab", 31)}},
	{"mac not hex", map[string]any{"crypto.mac": "not hex"}},
	{"cipher aes-128-cbc", map[string]any{"crypto.cipher": "aes-128-cbc"}},
	{"kdf argon2", map[string]any{"crypto.kdf": "argon2id"}},
	{"kdf missing", map[string]any{"crypto.kdf": nil}},
	{"version 1", map[string]any{"version": "1"}},
	{"version 4", map[string]any{"version": 4}},
	{"no crypto", map[string]any{"crypto": nil}},
	{"address not an address", map[string]any{"address": "0x1234"}},
	{"pbkdf2 c=2^31", map[string]any{"crypto.kdf": "pbkdf2", "crypto.kdfparams.c": 1 << 31, "crypto.kdfparams.prf": "hmac-sha256"}},
	{"pbkdf2 prf sha512", map[string]any{"crypto.kdf": "pbkdf2", "crypto.kdfparams.c": 1 << 10, "crypto.kdfparams.prf": "hmac-sha512"}},
}

func TestHostileKeyFilesRefusedBeforeDerivation(t *testing.T) {
	dir := t.TempDir()
	for i, c := range hostileEdits {
		m := lightKeyFile(t)
		for path, v := range c.set {
			edit(m, path, v)
		}
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("key%d.json", i))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		allocated := allocatedBy(func() {
			_, err = LoadKeyFile(path, "pw")
		})
		if !errors.Is(err, ErrBadKeyFile) {
			t.Errorf("%s: %v, want ErrBadKeyFile", c.name, err)
		}
		// The cheapest of these would make scrypt allocate 128·4096·8 = 4 MiB;
		// a refusal reads and parses a file of about 500 bytes.
		if allocated > 256<<10 {
			t.Errorf("%s: %d bytes allocated before the refusal", c.name, allocated)
		}
	}
}

// allocatedBy returns the bytes the Go heap handed out while f ran.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestKeyFileSizeAndAddressChecked(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, make([]byte, MaxKeyFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(big, "pw"); !errors.Is(err, ErrBadKeyFile) {
		t.Fatalf("oversized file: %v", err)
	}
	if _, err := KeyFileAddress(big); err == nil {
		t.Fatal("oversized file has an address")
	}
	m := lightKeyFile(t)
	edit(m, "address", "0x000000000000000000000000000000000000dead")
	data, _ := json.Marshal(m)
	other := filepath.Join(dir, "other.json")
	if err := os.WriteFile(other, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(other, "pw"); !errors.Is(err, ErrBadKeyFile) {
		t.Fatalf("a file whose key is not its address: %v", err)
	}
}

func TestImportRefusesUnboundedParameters(t *testing.T) {
	ks := Keystore{Dir: t.TempDir(), ScryptN: 1 << 20, ScryptP: 1}
	key, err := ParseHexKey(vectorKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Import(key, "pw"); !errors.Is(err, ErrBadKeyFile) {
		t.Fatalf("import with n=2^20: %v", err)
	}
}

func TestReadKeyHexOrKeystore(t *testing.T) {
	dir := t.TempDir()
	hexFile := filepath.Join(dir, "dev.key")
	if err := os.WriteFile(hexFile, []byte("0x"+vectorKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	asked := 0
	password := func() (string, error) { asked++; return "pw", nil }
	key, err := ReadKey(hexFile, password)
	if err != nil || hex.EncodeToString(crypto.FromECDSA(key)) != vectorKey || asked != 0 {
		t.Fatalf("hex key file: %v, password asked %d times", err, asked)
	}
	m := lightKeyFile(t)
	good, _ := json.Marshal(m)
	edit(m, "crypto.kdfparams.n", 1<<30)
	bad, _ := json.Marshal(m)
	for _, f := range []struct {
		data []byte
		ok   bool
	}{{good, true}, {bad, false}} {
		path := filepath.Join(dir, "key.json")
		if err := os.WriteFile(path, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		asked = 0
		key, err := ReadKey(path, password)
		switch {
		case f.ok && (err != nil || hex.EncodeToString(crypto.FromECDSA(key)) != vectorKey || asked != 1):
			t.Fatalf("keystore file: %v, password asked %d times", err, asked)
		case !f.ok && (!errors.Is(err, ErrBadKeyFile) || asked != 0):
			t.Fatalf("hostile keystore file: %v, password asked %d times", err, asked)
		}
	}
}

// TestImportFile: a keystore file is checked and copied without a password;
// a hostile one leaves nothing in the keystore; a hex key file is encrypted
// with the password asked for.
func TestImportFile(t *testing.T) {
	dir := t.TempDir()
	ks := Keystore{Dir: filepath.Join(dir, "keystore"), ScryptN: keystore.LightScryptN, ScryptP: keystore.LightScryptP}
	asked := 0
	password := func() (string, error) { asked++; return "new", nil }
	m := lightKeyFile(t)
	edit(m, "crypto.kdfparams.p", 1<<40)
	bad, _ := json.Marshal(m)
	badPath := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badPath, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.ImportFile(badPath, password); !errors.Is(err, ErrBadKeyFile) || asked != 0 {
		t.Fatalf("hostile keystore file: %v, password asked %d times", err, asked)
	}
	if entries, err := ks.List(); err != nil || len(entries) != 0 {
		t.Fatalf("after a refused import the keystore holds %v (%v)", entries, err)
	}
	good, err := lightKeyFileJSON()
	if err != nil {
		t.Fatal(err)
	}
	goodPath := filepath.Join(dir, "good.json")
	if err := os.WriteFile(goodPath, good, 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := ks.ImportFile(goodPath, password)
	if err != nil || asked != 0 {
		t.Fatalf("keystore file: %v, password asked %d times", err, asked)
	}
	if key, err := ks.Unlock(e.Address, "pw"); err != nil || hex.EncodeToString(crypto.FromECDSA(key)) != vectorKey {
		t.Fatalf("the copied file does not open with its own password: %v", err)
	}
	if _, err := ks.ImportFile(goodPath, password); err == nil {
		t.Fatal("the same key imported twice")
	}
	other, _ := crypto.GenerateKey()
	hexPath := filepath.Join(dir, "other.key")
	if err := os.WriteFile(hexPath, []byte(hex.EncodeToString(crypto.FromECDSA(other))), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err = ks.ImportFile(hexPath, password)
	if err != nil || asked != 1 {
		t.Fatalf("hex key file: %v, password asked %d times", err, asked)
	}
	if key, err := ks.Unlock(e.Address, "new"); err != nil || !key.Equal(other) {
		t.Fatalf("the imported hex key does not open with the new password: %v", err)
	}
}
