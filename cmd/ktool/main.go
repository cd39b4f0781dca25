// Command ktool is the everyday Kafka tool for this project; see package
// internal/ktool and docs/ktool.md.
package main

import (
	"os"

	"github.com/event-processor/event-processor/internal/ktool"
)

func main() {
	os.Exit(ktool.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
