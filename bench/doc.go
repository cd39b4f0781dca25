// Package bench measures the event processor's throughput side by side with
// its peers on one real Kafka broker: the processor itself (exactly-once), a
// plain at-least-once consume-transform-produce pipe doing the same job, and
// the same job on Kafka Streams with exactly_once_v2 (bench/streams, a Maven
// project run as a subprocess).
//
// Everything lives in the package's benchmarks; `go test ./bench/` without
// -bench runs only the generator's unit tests and needs no Docker. The
// benchmarks start one broker through the integration harness on first use.
// See docs/benchmarks.md for the commands, the method and the figures.
package bench
