package wallet

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Bounds on what a key file may ask of the machine that decrypts it. A key
// file names its own key derivation cost, and go-ethereum's
// keystore.DecryptKey pays whatever it names (scrypt n = 2^30 wants a TiB);
// chaind checks the file against these bounds before deriving anything.
// geth's standard parameters (n = 2^18, r = 8, p = 1: 256 MiB, about a second)
// are the most a sensible file asks for, so they are the ceiling.
const (
	// MaxKeyFileSize is the largest key file read; real ones are under 1 KiB.
	MaxKeyFileSize = 64 << 10
	// MaxScryptMemory bounds scrypt's working memory, 128·n·r bytes.
	MaxScryptMemory = 128 * keystore.StandardScryptN * 8
	// MaxScryptWork bounds scrypt's work, n·r·p (2^21 for geth's standard and
	// for the Web3 Secret Storage test vector, n = 2^18, r = 1, p = 8).
	MaxScryptWork = keystore.StandardScryptN * 8 * keystore.StandardScryptP
	// MaxPBKDF2Rounds bounds PBKDF2's iteration count (the Web3 Secret Storage
	// test vector uses 2^18).
	MaxPBKDF2Rounds = 1 << 21
	// maxSaltSize bounds the salt (tools write 32 bytes).
	maxSaltSize = 256
)

// ErrBadKeyFile is wrapped by every refusal of a key file's shape or
// parameters, before any key is derived from it.
var ErrBadKeyFile = errors.New("unusable key file")

// keyFile is a version 3 Web3 Secret Storage file, checked.
type keyFile struct {
	address *common.Address // nil when the file declares none
	crypto  keystore.CryptoJSON
}

// readKeyFile reads at most MaxKeyFileSize bytes of path.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes: %w", path, MaxKeyFileSize, ErrBadKeyFile)
	}
	return data, nil
}

// CheckKeyFile checks that data is a version 3 key file whose decryption
// costs at most the bounds above and cannot crash the decrypter (wrong IV or
// key length, missing parameters), without deriving anything.
func CheckKeyFile(data []byte) error {
	_, err := parseKeyFile(data)
	return err
}

// parseKeyFile decodes and checks data. The result holds exactly the values
// that were checked, so decryption never rereads the raw file (whose field
// names JSON matches case-insensitively in some places and not in others).
func parseKeyFile(data []byte) (*keyFile, error) {
	var raw struct {
		Address string          `json:"address"`
		Version json.RawMessage `json:"version"`
		Crypto  *struct {
			Cipher       string `json:"cipher"`
			CipherText   string `json:"ciphertext"`
			CipherParams struct {
				IV string `json:"iv"`
			} `json:"cipherparams"`
			KDF       string                     `json:"kdf"`
			KDFParams map[string]json.RawMessage `json:"kdfparams"`
			MAC       string                     `json:"mac"`
		} `json:"crypto"`
	}
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("larger than %d bytes: %w", MaxKeyFileSize, ErrBadKeyFile)
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a key file (%v): %w", err, ErrBadKeyFile)
	}
	if v := string(bytes.TrimSpace(raw.Version)); v != "3" {
		return nil, fmt.Errorf("key file version %s: only version 3 is read: %w", v, ErrBadKeyFile)
	}
	c := raw.Crypto
	if c == nil {
		return nil, fmt.Errorf("no crypto section: %w", ErrBadKeyFile)
	}
	out := &keyFile{crypto: keystore.CryptoJSON{
		Cipher:     c.Cipher,
		CipherText: c.CipherText,
		KDF:        c.KDF,
		MAC:        c.MAC,
	}}
	out.crypto.CipherParams.IV = c.CipherParams.IV
	if raw.Address != "" {
		if !common.IsHexAddress(raw.Address) {
			return nil, fmt.Errorf("address %q: %w", raw.Address, ErrBadKeyFile)
		}
		a := common.HexToAddress(raw.Address)
		out.address = &a
	}
	if c.Cipher != "aes-128-ctr" {
		return nil, fmt.Errorf("cipher %q: only aes-128-ctr is read: %w", c.Cipher, ErrBadKeyFile)
	}
	for _, f := range []struct {
		name, hex string
		size      int
	}{{"ciphertext", c.CipherText, 32}, {"iv", c.CipherParams.IV, 16}, {"mac", c.MAC, 32}} {
		if b, err := hex.DecodeString(f.hex); err != nil || len(b) != f.size {
			return nil, fmt.Errorf("%s is not %d bytes of hex: %w", f.name, f.size, ErrBadKeyFile)
		}
	}
	params, err := kdfParams(c.KDF, c.KDFParams)
	if err != nil {
		return nil, err
	}
	out.crypto.KDFParams = params
	return out, nil
}

// kdfParams checks the key derivation parameters and returns them in the
// form go-ethereum's decrypter reads (Go ints and a hex salt).
func kdfParams(kdf string, p map[string]json.RawMessage) (map[string]any, error) {
	var salt string
	if err := json.Unmarshal(p["salt"], &salt); err != nil {
		return nil, fmt.Errorf("kdfparams: salt is not a string: %w", ErrBadKeyFile)
	}
	if b, err := hex.DecodeString(salt); err != nil || len(b) == 0 || len(b) > maxSaltSize {
		return nil, fmt.Errorf("kdfparams: salt is not 1 to %d bytes of hex: %w", maxSaltSize, ErrBadKeyFile)
	}
	out := map[string]any{"salt": salt}
	names := []string{"dklen", "n", "r", "p"}
	if kdf == "pbkdf2" {
		names = []string{"dklen", "c"}
		var prf string
		if err := json.Unmarshal(p["prf"], &prf); err != nil || prf != "hmac-sha256" {
			return nil, fmt.Errorf("kdfparams: prf must be hmac-sha256: %w", ErrBadKeyFile)
		}
		out["prf"] = prf
	} else if kdf != "scrypt" {
		return nil, fmt.Errorf("kdf %q: only scrypt and pbkdf2 are read: %w", kdf, ErrBadKeyFile)
	}
	v := make(map[string]int64, len(names))
	for _, name := range names {
		n, err := strconv.ParseInt(string(bytes.TrimSpace(p[name])), 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("kdfparams: %s is not a positive integer: %w", name, ErrBadKeyFile)
		}
		v[name] = n
		out[name] = int(n)
	}
	if v["dklen"] != 32 {
		return nil, fmt.Errorf("kdfparams: dklen %d, want 32: %w", v["dklen"], ErrBadKeyFile)
	}
	if kdf == "pbkdf2" {
		if v["c"] > MaxPBKDF2Rounds {
			return nil, fmt.Errorf("kdfparams: pbkdf2 c=%d over the bound of %d: %w", v["c"], MaxPBKDF2Rounds, ErrBadKeyFile)
		}
		return out, nil
	}
	return out, checkScrypt(v["n"], v["r"], v["p"])
}

// checkScrypt bounds scrypt's memory (128·n·r bytes) and work (n·r·p),
// without overflowing on any int64 parameters.
func checkScrypt(n, r, p int64) error {
	if n < 2 || n&(n-1) != 0 {
		return fmt.Errorf("scrypt n=%d is not a power of two above 1: %w", n, ErrBadKeyFile)
	}
	if r < 1 || p < 1 {
		return fmt.Errorf("scrypt r=%d p=%d: both must be positive: %w", r, p, ErrBadKeyFile)
	}
	if n > MaxScryptMemory/128/r {
		return fmt.Errorf("scrypt n=%d r=%d needs %.0f MiB; the bound is %d MiB (geth's standard n=%d r=8): %w",
			n, r, 128*float64(n)*float64(r)/(1<<20), MaxScryptMemory>>20, keystore.StandardScryptN, ErrBadKeyFile)
	}
	if p > MaxScryptWork/(n*r) {
		return fmt.Errorf("scrypt n=%d r=%d p=%d is %.0f times the work of geth's standard: %w",
			n, r, p, float64(n*r)*float64(p)/MaxScryptWork, ErrBadKeyFile)
	}
	return nil
}

// decryptKeyFile checks data, the content of the key file at path, and then
// decrypts the checked values.
func decryptKeyFile(path string, data []byte, password string) (*ecdsa.PrivateKey, error) {
	kf, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return kf.decrypt(path, password)
}

// decrypt derives the key from password and decrypts it.
func (kf *keyFile) decrypt(path, password string) (*ecdsa.PrivateKey, error) {
	plain, err := keystore.DecryptDataV3(kf.crypto, password)
	if err != nil {
		return nil, fmt.Errorf("decrypt %s: %w", path, err)
	}
	key, err := crypto.ToECDSA(plain)
	if err != nil {
		return nil, fmt.Errorf("decrypt %s: %w", path, err)
	}
	if kf.address != nil && crypto.PubkeyToAddress(key.PublicKey) != *kf.address {
		return nil, fmt.Errorf("%s: the key does not match the file's address %s: %w", path, kf.address.Hex(), ErrBadKeyFile)
	}
	return key, nil
}
