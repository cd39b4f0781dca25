//go:build nodemo

package main

import (
	"fmt"
	"io"
)

// demoCommand stands in for the demo in builds tagged nodemo (the container
// image): they leave out the embedded broker (kfake), so the production
// binary carries only the processor.
func demoCommand(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "event-processor: this build has no embedded demo broker (built with -tags nodemo); "+
		"run `go run ./cmd/event-processor demo` from a clone of the repository")
	return 2
}
