package wallet

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
)

// Keystore is a directory of encrypted key files.
type Keystore struct {
	Dir string
	// ScryptN and ScryptP set the key derivation cost of new files; zero
	// means geth's standard (N=2^18, P=1: about a second and 256 MB).
	ScryptN, ScryptP int
}

// Entry is one key file.
type Entry struct {
	Address common.Address
	Path    string
}

// ErrNoKey is returned when no key file holds the address.
var ErrNoKey = errors.New("no key file for this address")

func (ks Keystore) scrypt() (int, int) {
	if ks.ScryptN == 0 {
		return keystore.StandardScryptN, keystore.StandardScryptP
	}
	return ks.ScryptN, ks.ScryptP
}

// New creates a key and stores it encrypted with password.
func (ks Keystore) New(password string) (Entry, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return Entry{}, fmt.Errorf("generate key: %w", err)
	}
	return ks.Import(key, password)
}

// Import stores key encrypted with password. Importing a key twice is an error.
func (ks Keystore) Import(key *ecdsa.PrivateKey, password string) (Entry, error) {
	addr := crypto.PubkeyToAddress(key.PublicKey)
	if _, err := ks.Find(addr); err == nil {
		return Entry{}, fmt.Errorf("import %s: already in %s", addr.Hex(), ks.Dir)
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return Entry{}, fmt.Errorf("import %s: %w", addr.Hex(), err)
	}
	n, p := ks.scrypt()
	if err := checkScrypt(int64(n), 8, int64(p)); err != nil {
		return Entry{}, fmt.Errorf("import %s: %w", addr.Hex(), err)
	}
	data, err := keystore.EncryptKey(&keystore.Key{Id: id, Address: addr, PrivateKey: key}, password, n, p)
	if err != nil {
		return Entry{}, fmt.Errorf("encrypt key %s: %w", addr.Hex(), err)
	}
	return ks.store(addr, data)
}

// ImportFile imports the key in the file at path. A keystore file (written
// by geth, ethers or chaind) is copied as it is, without a password, once it
// has passed the checks LoadKeyFile makes and declares its address; a file
// holding a hex key is encrypted with what password returns. Importing a key
// twice is an error.
func (ks Keystore) ImportFile(path string, password func() (string, error)) (Entry, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return Entry{}, err
	}
	if !isKeystoreJSON(data) {
		key, err := ParseHexKey(string(data))
		if err != nil {
			return Entry{}, fmt.Errorf("%s: %w", path, err)
		}
		pw, err := password()
		if err != nil {
			return Entry{}, err
		}
		return ks.Import(key, pw)
	}
	kf, err := parseKeyFile(data)
	if err != nil {
		return Entry{}, fmt.Errorf("%s: %w", path, err)
	}
	if kf.address == nil {
		return Entry{}, fmt.Errorf("%s declares no address: %w", path, ErrBadKeyFile)
	}
	if _, err := ks.Find(*kf.address); err == nil {
		return Entry{}, fmt.Errorf("import %s: already in %s", kf.address.Hex(), ks.Dir)
	}
	return ks.store(*kf.address, data)
}

// isKeystoreJSON tells a keystore file (a JSON object) from a hex key file.
func isKeystoreJSON(data []byte) bool { return strings.HasPrefix(strings.TrimSpace(string(data)), "{") }

// store writes the key file data of addr into the keystore.
func (ks Keystore) store(addr common.Address, data []byte) (Entry, error) {
	if err := os.MkdirAll(ks.Dir, 0o700); err != nil {
		return Entry{}, fmt.Errorf("create keystore: %w", err)
	}
	// wall-clock: the file name records when the key was stored, as geth's do
	name := fmt.Sprintf("UTC--%s--%x", time.Now().UTC().Format("2006-01-02T15-04-05.000000000Z"), addr[:])
	path := filepath.Join(ks.Dir, name)
	if err := writeFileAtomic(path, data, 0o600); err != nil {
		return Entry{}, fmt.Errorf("write key %s: %w", addr.Hex(), err)
	}
	return Entry{Address: addr, Path: path}, nil
}

// List returns the key files in the keystore, sorted by address. Files that
// are not key files are skipped.
func (ks Keystore) List() ([]Entry, error) {
	files, err := os.ReadDir(ks.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read keystore: %w", err)
	}
	var out []Entry
	for _, f := range files {
		if f.IsDir() || strings.HasPrefix(f.Name(), ".") {
			continue
		}
		path := filepath.Join(ks.Dir, f.Name())
		addr, err := KeyFileAddress(path)
		if err != nil {
			continue
		}
		out = append(out, Entry{Address: addr, Path: path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address.Cmp(out[j].Address) < 0 })
	return out, nil
}

// Find returns the key file of addr.
func (ks Keystore) Find(addr common.Address) (Entry, error) {
	entries, err := ks.List()
	if err != nil {
		return Entry{}, err
	}
	for _, e := range entries {
		if e.Address == addr {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%s in %s: %w", addr.Hex(), ks.Dir, ErrNoKey)
}

// Unlock decrypts addr's key.
func (ks Keystore) Unlock(addr common.Address, password string) (*ecdsa.PrivateKey, error) {
	e, err := ks.Find(addr)
	if err != nil {
		return nil, err
	}
	return LoadKeyFile(e.Path, password)
}

// LoadKeyFile decrypts one key file. A file whose size, shape or key
// derivation parameters are out of bounds (see MaxScryptMemory) is refused
// with ErrBadKeyFile before any key is derived.
func LoadKeyFile(path, password string) (*ecdsa.PrivateKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	return decryptKeyFile(path, data, password)
}

// ReadKey reads a private key from path: a keystore file, checked as
// LoadKeyFile does and then decrypted with what password returns (asked only
// for a keystore file that passed the check), or a file holding the key in
// hex.
func ReadKey(path string, password func() (string, error)) (*ecdsa.PrivateKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	if !isKeystoreJSON(data) {
		return ParseHexKey(string(data))
	}
	kf, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pw, err := password()
	if err != nil {
		return nil, err
	}
	return kf.decrypt(path, pw)
}

// KeyFileAddress reads the address a key file declares, without decrypting.
func KeyFileAddress(path string) (common.Address, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return common.Address{}, err
	}
	var f struct {
		Address string `json:"address"`
		Crypto  any    `json:"crypto"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.Crypto == nil || !common.IsHexAddress(f.Address) {
		return common.Address{}, fmt.Errorf("%s is not a keystore file", path)
	}
	return common.HexToAddress(f.Address), nil
}

// ParseHexKey decodes a hex private key, with or without 0x.
func ParseHexKey(s string) (*ecdsa.PrivateKey, error) {
	key, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return key, nil
}

// writeFileAtomic writes through a temporary file and a rename, so that a
// crash leaves either no file or the whole file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
