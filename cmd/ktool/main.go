// Command ktool is the everyday Kafka tool for this project: produce records
// from the command line or a file, consume them readably or as JSON lines,
// list, create and describe topics, and show a consumer group's lag. It talks
// to any Kafka-compatible bootstrap address (--brokers, or the environment
// variable KAFKA_BOOTSTRAP_SERVERS, or localhost:9092).
//
// Usage errors exit 2, runtime errors (an unreachable broker, a missing
// topic, an unreadable file) exit 1. See docs/ktool.md.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
