package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/event-processor/event-processor/bench/internal/pipe"
	"github.com/event-processor/event-processor/processor"
)

// eventProcessor is the real processor with its default settings (up to
// 1000 records or 100ms a transaction), in this process.
var eventProcessor = processorVariant("event-processor", processor.DefaultConfig().MaxRecords)

// eventProcessorTxn1k is the processor with --txn-max-records 1000, a
// transaction every thousand records under load: what a smaller bound costs.
var eventProcessorTxn1k = processorVariant("event-processor-txn1k", 1000)

func processorVariant(name string, maxRecords int) variant {
	return variant{
		name:        name,
		exactlyOnce: true,
		start: func(ctx context.Context, p *pipeline) (func() error, error) {
			cfg := p.config()
			cfg.MaxRecords = maxRecords
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			proc, err := processor.New(cfg, log)
			if err != nil {
				return nil, err
			}
			return background(ctx, "processor", proc.Run), nil
		},
	}
}

// atLeastOncePipe is the baseline: the same transform in a plain consumer
// group client that polls, produces every result, flushes and only then
// commits the poll's offsets. No transactions: a crash between flush and
// commit duplicates, and consumers of its output see records before the
// commit.
var atLeastOncePipe = variant{
	name: "at-least-once",
	start: func(ctx context.Context, p *pipeline) (func() error, error) {
		cfg := pipe.Config{Brokers: []string{p.addr}, Input: p.input, Output: p.output, Errors: p.errored, Group: p.group}
		route, err := pipe.AtLeastOnce(cfg)
		if err != nil {
			return nil, err
		}
		cl, err := pipe.Client(cfg)
		if err != nil {
			return nil, err
		}
		return background(ctx, "at-least-once pipe", func(ctx context.Context) error {
			defer cl.Close()
			return pipe.Run(ctx, cl, route)
		}), nil
	},
}

// background runs fn until the returned stop is called; stop cancels fn's
// context and waits up to 30s for fn to return its error.
func background(ctx context.Context, name string, fn func(context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return fmt.Errorf("%s did not stop within 30s", name)
		}
	}
}

// flagStreamsJar is the Kafka Streams implementation, built by
// `mvn -q -B package` in bench/streams.
var flagStreamsJar = flag.String("bench.streams-jar", "streams/target/streams-bench.jar", "the Kafka Streams peer's jar")

// streamsAvailable says why the Kafka Streams variant cannot run, or nil.
func streamsAvailable() error {
	if _, err := exec.LookPath("java"); err != nil {
		return errors.New("java is not on PATH: Kafka Streams needs a Java 17+ runtime")
	}
	if _, err := os.Stat(*flagStreamsJar); err != nil {
		abs, _ := filepath.Abs(*flagStreamsJar)
		return fmt.Errorf("%s is missing: build it with `cd bench/streams && mvn -q -B package`", abs)
	}
	return nil
}

// kafkaStreams is the job on Kafka Streams (exactly_once_v2, commit every
// 100ms) with the given number of stream threads, in a JVM of its own.
func kafkaStreams(threads int) variant {
	return variant{
		name:        fmt.Sprintf("kafka-streams-%dt", threads),
		exactlyOnce: true,
		ownEncoding: true,
		start: func(ctx context.Context, p *pipeline) (func() error, error) {
			cmd := exec.Command("java", "-Xms256m", "-Xmx512m",
				"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
				"-jar", *flagStreamsJar,
				"--bootstrap", p.addr,
				"--input", p.input, "--output", p.output, "--error", p.errored,
				"--application-id", p.group,
				"--threads", strconv.Itoa(threads),
				"--commit-interval-ms", "100",
			)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				return nil, err
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			return func() error {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case err := <-done:
					// A JVM that ran its shutdown hooks on SIGTERM exits 143.
					if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 128+int(syscall.SIGTERM) {
						err = nil
					}
					if err != nil {
						return fmt.Errorf("kafka streams exited: %w; its output:\n%s", err, tail(out.String(), 4000))
					}
					return nil
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					<-done
					return fmt.Errorf("kafka streams did not stop within 30s of SIGTERM; its output:\n%s", tail(out.String(), 4000))
				}
			}, nil
		},
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
