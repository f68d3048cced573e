//go:build !unix

package testnet

import "os"

// tryLock has no portable equivalent here: every supervisor gets the
// directory, and 'testnet down' needs the control API.
func tryLock(*os.File) (bool, error) { return true, nil }
