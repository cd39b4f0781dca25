// Command event-processor reads JSON events from Kafka, validates and enriches
// them, and writes results and error events back to Kafka exactly once.
//
// Subcommands:
//
//	run        process a Kafka topic (the default when no subcommand is given)
//	transform  dry run: print what the processor would make of each input line
//	demo       run the processor against an embedded, in-process broker
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `usage: event-processor [run] [flags]     process Kafka input exactly once (default)
       event-processor transform [flags]  print what the processor makes of each input line
       event-processor demo [flags]       run the processor on an embedded in-process broker

Run "event-processor <subcommand> -h" for the flags of a subcommand.
`

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// dispatch selects the subcommand. With no subcommand, or when the first
// argument is a flag, it runs the processor, so manifests written for the
// original job (flags only) keep working.
func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(stdout, usage)
			return 0
		}
		return runCommand(args, stdout, stderr)
	}
	switch args[0] {
	case "run":
		return runCommand(args[1:], stdout, stderr)
	case "transform":
		return transformCommand(args[1:], stdin, stdout, stderr)
	case "demo":
		return demoCommand(args[1:], stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "event-processor: unknown subcommand %q\n\n%s", args[0], usage)
		return 2
	}
}
