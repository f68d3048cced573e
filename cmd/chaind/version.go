package main

import (
	"fmt"
	"runtime"

	"github.com/chaind/chaind/node"
)

func runVersion(args []string) error {
	fs := newFlagSet("version", "version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Printf("chaind %s (%s, %s/%s)\n", node.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
