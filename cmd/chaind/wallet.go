package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaind/chaind/rpc"
	"github.com/chaind/chaind/wallet"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

func walletCommands() []command {
	return []command{
		{"new", "create a key in the keystore (Web3 Secret Storage)", walletNew, nil},
		{"list", "list the keystore's addresses", walletList, nil},
		{"import", "import a hex private key into the keystore", walletImport, nil},
		{"balance", "print an address's balance", walletBalance, nil},
		{"send", "sign and send a transfer", walletSend, nil},
	}
}

func defaultKeystore() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return "keystore"
	}
	return filepath.Join(home, ".chaind", "keystore")
}

// keystoreFlags adds the flags every key-handling subcommand shares.
func keystoreFlags(fs *pflag.FlagSet) (dir, passwordFile *string, lightKDF *bool) {
	dir = fs.String("keystore", defaultKeystore(), "keystore directory")
	passwordFile = fs.String("password-file", "", "file whose first line is the password (default: prompt)")
	lightKDF = fs.Bool("lightkdf", false, "cheaper key encryption (scrypt N=4096), for throwaway keys")
	return
}

func openKeystore(dir string, light bool) wallet.Keystore {
	ks := wallet.Keystore{Dir: dir}
	if light {
		ks.ScryptN, ks.ScryptP = 1<<12, 6
	}
	return ks
}

// readPassword takes the first line of file, or asks on the terminal (twice
// when confirm is set), or reads a line from a non-terminal stdin.
func readPassword(file string, confirm bool) (string, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		return strings.TrimRight(strings.SplitN(string(data), "\n", 2)[0], "\r"), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("no password: give --password-file or type it on a terminal")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprint(os.Stderr, "Password: ")
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if confirm {
		fmt.Fprint(os.Stderr, "Repeat password: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", err
		}
		if string(again) != string(p) {
			return "", errors.New("passwords do not match")
		}
	}
	return string(p), nil
}

func walletNew(args []string) error {
	fs := newFlagSet("wallet new", "wallet new [--keystore DIR] [--password-file FILE]")
	dir, pwFile, light := keystoreFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	pw, err := readPassword(*pwFile, true)
	if err != nil {
		return err
	}
	e, err := openKeystore(*dir, *light).New(pw)
	if err != nil {
		return err
	}
	fmt.Printf("%s\nkey file: %s\n", e.Address.Hex(), e.Path)
	return nil
}

func walletList(args []string) error {
	fs := newFlagSet("wallet list", "wallet list [--keystore DIR]")
	dir, _, _ := keystoreFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	entries, err := openKeystore(*dir, false).List()
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		fmt.Fprintf(os.Stderr, "no keys in %s\n", *dir)
	}
	for _, e := range entries {
		fmt.Printf("%s  %s\n", e.Address.Hex(), e.Path)
	}
	return nil
}

func walletImport(args []string) error {
	fs := newFlagSet("wallet import", "wallet import <hexkey|file> [--keystore DIR] [--password-file FILE]\n\nA file may hold a hex key, or be a keystore file (from geth, ethers or chaind), which is checked and copied as it is.")
	dir, pwFile, light := keystoreFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("wallet import: give one hex private key, or a file holding one or a keystore file")
	}
	src, ks := fs.Arg(0), openKeystore(*dir, *light)
	password := func() (string, error) { return readPassword(*pwFile, true) }
	var (
		e   wallet.Entry
		err error
	)
	if _, statErr := os.Stat(src); statErr == nil {
		e, err = ks.ImportFile(src, password)
	} else {
		var (
			key *ecdsa.PrivateKey
			pw  string
		)
		if key, err = wallet.ParseHexKey(src); err != nil {
			return err
		}
		if pw, err = password(); err != nil {
			return err
		}
		e, err = ks.Import(key, pw)
	}
	if err != nil {
		return err
	}
	fmt.Printf("%s\nkey file: %s\n", e.Address.Hex(), e.Path)
	return nil
}

func rpcFlag(fs *pflag.FlagSet) *string {
	return fs.String("rpc", "http://127.0.0.1:8545", "node JSON-RPC URL")
}

func parseAddress(flag, s string) (common.Address, error) {
	if !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("%s %q is not an address", flag, s)
	}
	return common.HexToAddress(s), nil
}

func walletBalance(args []string) error {
	fs := newFlagSet("wallet balance", "wallet balance <address> [--rpc URL]")
	url := rpcFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("wallet balance: give one address")
	}
	addr, err := parseAddress("address", fs.Arg(0))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var bal hexutil.Big
	if err := rpc.NewClient(*url).Call(ctx, &bal, "eth_getBalance", addr, "latest"); err != nil {
		return err
	}
	fmt.Printf("%s wei (%s ETH)\n", bal.ToInt(), formatEther(bal.ToInt()))
	return nil
}

func formatEther(wei *big.Int) string {
	return new(big.Rat).SetFrac(wei, big.NewInt(1e18)).FloatString(18)
}

func walletSend(args []string) error {
	fs := newFlagSet("wallet send", "wallet send (--from ADDR | --key FILE) --to ADDR --value AMOUNT [--fee TIP] [--wait] [--rpc URL]")
	from := fs.String("from", "", "sending address, whose key is in the keystore")
	keyFile := fs.String("key", "", "file holding a hex private key (such as a dev node's dev.key), instead of --from")
	to := fs.String("to", "", "recipient address")
	value := fs.String("value", "", "amount: 1.5eth, 20gwei or a number of wei")
	fee := fs.String("fee", "", "priority fee (tip) per gas, such as 2gwei (default: the node's suggestion)")
	legacy := fs.Bool("legacy", false, "send an EIP-155 legacy transaction instead of EIP-1559")
	wait := fs.Bool("wait", false, "wait until the transaction is mined and print only its receipt (JSON) on stdout")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long --wait waits")
	url := rpcFlag(fs)
	dir, pwFile, _ := keystoreFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	toAddr, err := parseAddress("--to", *to)
	if err != nil {
		return err
	}
	amount, err := wallet.ParseAmount(*value)
	if err != nil {
		return fmt.Errorf("--value: %w", err)
	}
	opts := wallet.SendOptions{Legacy: *legacy}
	if *fee != "" {
		if opts.TipCap, err = wallet.ParseAmount(*fee); err != nil {
			return fmt.Errorf("--fee: %w", err)
		}
	}
	key, err := sendingKey(*from, *keyFile, *dir, *pwFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client := rpc.NewClient(*url)
	tx, err := wallet.Send(ctx, client, key, toAddr, amount, opts)
	if err != nil {
		return err
	}
	if !*wait {
		fmt.Println(tx.Hash().Hex())
		return nil
	}
	// stdout is the receipt alone (a JSON object for jq); the hash goes to
	// stderr for whoever watches the wait.
	fmt.Fprintf(os.Stderr, "sent %s; waiting for it to be mined\n", tx.Hash().Hex())
	receipt, err := wallet.WaitReceipt(ctx, client, tx.Hash(), 250*time.Millisecond)
	if err != nil {
		return err
	}
	var pretty map[string]any
	if err := json.Unmarshal(receipt, &pretty); err != nil {
		return err
	}
	out, _ := json.MarshalIndent(pretty, "", "  ")
	fmt.Println(string(out))
	return nil
}

func sendingKey(from, keyFile, dir, pwFile string) (*ecdsa.PrivateKey, error) {
	switch {
	case keyFile != "" && from != "":
		return nil, errors.New("wallet send: give --from or --key, not both")
	case keyFile != "":
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		return wallet.ParseHexKey(string(data))
	case from != "":
		addr, err := parseAddress("--from", from)
		if err != nil {
			return nil, err
		}
		pw, err := readPassword(pwFile, false)
		if err != nil {
			return nil, err
		}
		key, err := openKeystore(dir, false).Unlock(addr, pw)
		if err != nil {
			return nil, err
		}
		if crypto.PubkeyToAddress(key.PublicKey) != addr {
			return nil, fmt.Errorf("key file for %s holds another key", addr.Hex())
		}
		return key, nil
	}
	return nil, errors.New("wallet send: give --from ADDR (a keystore key) or --key FILE")
}

// loadKeyFile reads a private key from a keystore file (decrypted with the
// password from passwordFile, or a prompt) or from a file holding it in hex.
func loadKeyFile(path, passwordFile string) (*ecdsa.PrivateKey, error) {
	return wallet.ReadKey(path, func() (string, error) { return readPassword(passwordFile, false) })
}
