// Package bench measures the event processor side by side with its peers on
// one real Kafka broker: the processor itself (exactly-once), a plain
// at-least-once consume-transform-produce pipe doing the same job, the same
// job on Kafka Streams with exactly_once_v2, with defaults and tuned
// (bench/streams, a Maven project), and a raw copy with no transform, the
// broker's limit.
//
// BenchmarkLatency offers each a fixed rate and records, for every result,
// the time from its input's produce to its visibility to a read_committed
// consumer in an HDR histogram; it runs every contender as an OS process of
// its own so that its CPU time and peak RSS come from the OS, verifies every
// run with package verify, and writes bench/results/latest.json and the
// plots. BenchmarkSmoke is the same in miniature, for the test command.
//
// Everything lives in the package's benchmarks; `go test ./bench/` without
// -bench runs only unit tests and needs no Docker. The benchmarks start one
// broker through the integration harness on first use. See
// docs/benchmarks.md for the commands, the method and the figures.
package bench
