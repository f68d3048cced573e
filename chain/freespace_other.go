//go:build !linux && !darwin

package chain

// freeSpace is not known on this platform: only write errors stop writes.
func freeSpace(string) (uint64, error) { return unknownFreeSpace() }
