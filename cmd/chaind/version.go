package main

import (
	"fmt"
	"runtime"

	"github.com/chaind/chaind/node"
)

func runVersion([]string) error {
	fmt.Printf("chaind %s (%s, %s/%s)\n", node.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
