package wallet

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
)

// MnemonicSeed is the BIP-39 seed of a mnemonic and passphrase: PBKDF2 with
// HMAC-SHA512, 2048 rounds, salt "mnemonic" + passphrase. The words are not
// checked against BIP-39's word list; they must be ASCII (BIP-39 asks for
// NFKD normalisation, which leaves ASCII unchanged).
func MnemonicSeed(mnemonic, passphrase string) ([]byte, error) {
	for _, s := range []string{mnemonic, passphrase} {
		for i := range len(s) {
			if s[i] >= 0x80 {
				return nil, errors.New("mnemonic seed: only ASCII mnemonics and passphrases are supported")
			}
		}
	}
	mnemonic = strings.Join(strings.Fields(mnemonic), " ")
	return pbkdf2.Key(sha512.New, mnemonic, []byte("mnemonic"+passphrase), 2048, 64)
}

// DeriveKey derives the secp256k1 key at path from a BIP-32 seed, such as
// m/44'/60'/0'/0/0 (accounts.ParseDerivationPath reads that notation), the
// first account Ethereum wallets make from a mnemonic.
func DeriveKey(seed []byte, path accounts.DerivationPath) (*ecdsa.PrivateKey, error) {
	if len(seed) < 16 || len(seed) > 64 {
		return nil, fmt.Errorf("derive key: a seed has 16 to 64 bytes, not %d", len(seed))
	}
	mac := hmac.New(sha512.New, []byte("Bitcoin seed"))
	mac.Write(seed)
	sum := mac.Sum(nil)
	key, chainCode := new(big.Int).SetBytes(sum[:32]), sum[32:]
	n := crypto.S256().Params().N
	if key.Sign() == 0 || key.Cmp(n) >= 0 {
		return nil, errors.New("derive key: the seed gives an invalid master key")
	}
	for depth, index := range path {
		var data []byte
		if index >= 0x80000000 { // hardened: from the private key
			data = append([]byte{0}, math.PaddedBigBytes(key, 32)...)
		} else {
			priv, err := crypto.ToECDSA(math.PaddedBigBytes(key, 32))
			if err != nil {
				return nil, fmt.Errorf("derive key: %w", err)
			}
			data = crypto.CompressPubkey(&priv.PublicKey)
		}
		data = binary.BigEndian.AppendUint32(data, index)
		mac := hmac.New(sha512.New, chainCode)
		mac.Write(data)
		sum := mac.Sum(nil)
		tweak := new(big.Int).SetBytes(sum[:32])
		key = new(big.Int).Add(key, tweak)
		key.Mod(key, n)
		// BIP-32: such an index is skipped; it happens with probability
		// below 2^-127.
		if tweak.Cmp(n) >= 0 || key.Sign() == 0 {
			return nil, fmt.Errorf("derive key: index %d at depth %d gives an invalid key", index, depth+1)
		}
		chainCode = sum[32:]
	}
	return crypto.ToECDSA(math.PaddedBigBytes(key, 32))
}
