// Package pipe holds the benchmark's two non-transactional contenders, each
// a plain consumer-group client that polls, produces a result for every
// record, flushes and only then commits the poll's offsets:
//
//   - AtLeastOnce does the processor's job (processor.Router: the same
//     transform, keys and provenance headers) without transactions. A
//     crash between flush and commit repeats results, and readers see
//     results before the offsets are committed.
//   - RawCopy copies every record's key, value and headers unchanged to the
//     output topic: no parsing, no transform, no transactions. It is what
//     the broker and a Go client can move on the machine, the ceiling for
//     any consume-produce job.
//
// bench/cmd/pipe runs either as a process of its own, so that its CPU time
// and memory can be measured as the processor's are.
package pipe

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/event-processor/event-processor/processor"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config names a pipe's topics and group.
type Config struct {
	Brokers               []string
	Input, Output, Errors string // Errors is unused by RawCopy
	Group                 string
}

// A RouteFunc makes the one record to produce for in.
type RouteFunc func(in *kgo.Record) *kgo.Record

// AtLeastOnce returns the processor's per-record routing (the default
// pipeline name and --max-record-bytes) for cfg's topics.
func AtLeastOnce(cfg Config) (RouteFunc, error) {
	pc := processor.DefaultConfig()
	pc.InputTopic, pc.OutputTopic, pc.ErrorTopic = cfg.Input, cfg.Output, cfg.Errors
	rt, err := processor.NewRouter(pc, pc.MaxRecordBytes, nil)
	if err != nil {
		return nil, err
	}
	return func(in *kgo.Record) *kgo.Record {
		out, _ := rt.Route(in)
		return out
	}, nil
}

// RawCopy returns a copy of in for the output topic: its key, value and
// headers as they are.
func RawCopy(cfg Config) RouteFunc {
	return func(in *kgo.Record) *kgo.Record {
		return &kgo.Record{Topic: cfg.Output, Key: in.Key, Value: in.Value, Headers: in.Headers}
	}
}

// Client is the consumer-group client a pipe runs on: the group reads the
// input from its start and commits only when told.
func Client(cfg Config, opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Input),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	}, opts...)...)
}

// Run is the loop: poll, route and produce every record, flush, commit the
// poll's offsets. It returns nil once ctx is cancelled, or the first poll,
// produce or commit error.
func Run(ctx context.Context, cl *kgo.Client, route RouteFunc) error {
	var (
		mu       sync.Mutex
		produced error
	)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("polling: %w", err)
		}
		fs.EachRecord(func(in *kgo.Record) {
			cl.Produce(ctx, route(in), func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					produced = errors.Join(produced, err)
					mu.Unlock()
				}
			})
		})
		if err := cl.Flush(ctx); err != nil {
			return nil // cancelled
		}
		mu.Lock()
		err := produced
		mu.Unlock()
		if err != nil {
			return fmt.Errorf("producing: %w", err)
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("committing: %w", err)
		}
	}
}
