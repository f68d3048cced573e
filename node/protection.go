package node

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/chaind/chaind/pos"
	"github.com/ethereum/go-ethereum/crypto"
)

// oldVoteFile is where chaind kept one validator key's highest vote before
// the protection database; a node that finds it imports it (pos's
// MigrateVoteFile) and removes it.
const oldVoteFile = "validator-votes.json"

// ProtectionDir is the slashing-protection database inside a data
// directory.
func ProtectionDir(dataDir string) string { return filepath.Join(dataDir, pos.ProtectionDir) }

// openProtection opens the data directory's slashing-protection database
// for a validator with key, migrating the old single-key vote file.
func openProtection(dataDir string, key *ecdsa.PrivateKey) (*pos.Protection, error) {
	p, err := pos.OpenProtection(ProtectionDir(dataDir))
	if err != nil {
		return nil, err
	}
	if err := p.MigrateVoteFile(filepath.Join(dataDir, oldVoteFile), crypto.CompressPubkey(&key.PublicKey)); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// openExistingProtection opens the protection database of a data directory
// that has one; the node must be stopped.
func openExistingProtection(dataDir string) (*pos.Protection, error) {
	dir := ProtectionDir(dataDir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no slashing-protection database (%s): no validator ran there", dataDir, dir)
	}
	return pos.OpenProtection(dir)
}

// ExportProtection writes the slashing-protection database of a data
// directory (whose node must be stopped) as an EIP-3076 interchange file.
func ExportProtection(dataDir string, w io.Writer) error {
	p, err := openExistingProtection(dataDir)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Export(w)
}

// ImportProtection merges an EIP-3076 interchange file into the
// slashing-protection database of a data directory (whose node must be
// stopped), creating the database if there is none.
func ImportProtection(dataDir string, r io.Reader) (pos.ImportReport, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return pos.ImportReport{}, fmt.Errorf("create data directory: %w", err)
	}
	p, err := pos.OpenProtection(ProtectionDir(dataDir))
	if err != nil {
		return pos.ImportReport{}, err
	}
	defer p.Close()
	return p.Import(r)
}
