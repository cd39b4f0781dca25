package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Offsets are offsets by partition of one topic.
type Offsets map[int32]int64

// Total is the sum of the offsets.
func (o Offsets) Total() int64 {
	var n int64
	for _, v := range o {
		n += v
	}
	return n
}

// EndOffsets returns the end offset (high watermark) of every partition of
// topic.
func EndOffsets(ctx context.Context, adm *kadm.Client, topic string) (Offsets, error) {
	return listOffsets(ctx, topic, "end", func(ctx context.Context) (kadm.ListedOffsets, error) { return adm.ListEndOffsets(ctx, topic) })
}

// StartOffsets returns the log start offset of every partition of topic.
func StartOffsets(ctx context.Context, adm *kadm.Client, topic string) (Offsets, error) {
	return listOffsets(ctx, topic, "start", func(ctx context.Context) (kadm.ListedOffsets, error) { return adm.ListStartOffsets(ctx, topic) })
}

// OffsetsAfter returns, for every partition of topic, the first offset whose
// record timestamp is at or after t (the end offset where there is none).
func OffsetsAfter(ctx context.Context, adm *kadm.Client, topic string, t time.Time) (Offsets, error) {
	return listOffsets(ctx, topic, "time", func(ctx context.Context) (kadm.ListedOffsets, error) {
		return adm.ListOffsetsAfterMilli(ctx, t.UnixMilli(), topic)
	})
}

func listOffsets(ctx context.Context, topic, which string, list func(context.Context) (kadm.ListedOffsets, error)) (Offsets, error) {
	listed, err := list(ctx)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s offsets of %s: %w", which, topic, err)
	}
	out := make(Offsets)
	for p, o := range listed[topic] {
		out[p] = o.Offset
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("listing %s offsets of %s: %w", which, topic, ErrNoPartitions)
	}
	return out, nil
}

// ErrNoPartitions is returned for a topic that does not exist or has no
// partitions.
var ErrNoPartitions = errors.New("the topic does not exist or has no partitions")

// Read reads topic's partitions from starts (the log start where starts
// has no entry, or starts is nil) up to but not including ends, under the
// isolation level, and calls fn with every data record in offset order per
// partition. Partitions missing from ends are not read. Under
// read_committed it waits for transactions open below an end to finish, so
// a record of a transaction that later commits is never missed; records of
// aborted transactions are never passed to fn. Transaction markers count
// towards reaching an end but are not passed to fn. ctx bounds the read.
func Read(ctx context.Context, opts []kgo.Opt, topic string, starts, ends Offsets, isolation kgo.IsolationLevel, fn func(*kgo.Record)) error {
	remaining := make(Offsets)
	assign := make(map[int32]kgo.Offset)
	for p, end := range ends {
		start, ok := starts[p]
		if ok && start >= end || end <= 0 {
			continue
		}
		remaining[p] = end
		if ok {
			assign[p] = kgo.NewOffset().At(start)
		} else {
			assign[p] = kgo.NewOffset().AtStart()
		}
	}
	if len(remaining) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(append(slices.Clone(opts),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign}),
		kgo.FetchIsolationLevel(isolation),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return fmt.Errorf("reading %s: creating client: %w", topic, err)
	}
	defer cl.Close()
	for len(remaining) > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("reading %s: partitions %s short of their end: %w", topic, describe(remaining), context.Cause(ctx))
		}
		var errs []error
		fetches.EachError(func(_ string, p int32, err error) {
			errs = append(errs, fmt.Errorf("partition %d: %w", p, err))
		})
		if len(errs) > 0 {
			return fmt.Errorf("reading %s: %w", topic, errors.Join(errs...))
		}
		fetches.EachRecord(func(r *kgo.Record) {
			end, ok := ends[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			if r.Offset >= end-1 {
				delete(remaining, r.Partition)
			}
			if !r.Attrs.IsControl() {
				fn(r)
			}
		})
		// A partition whose end is below the log start (deleted by
		// retention meanwhile) has nothing left to read.
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if end, ok := remaining[fp.Partition]; ok && fp.LogStartOffset >= end {
				delete(remaining, fp.Partition)
			}
		})
	}
	return nil
}

// describe lists offsets as "0@12 1@40" in partition order.
func describe(o Offsets) string {
	var parts []string
	for _, p := range slices.Sorted(maps.Keys(o)) {
		parts = append(parts, fmt.Sprintf("%d@%d", p, o[p]))
	}
	return strings.Join(parts, " ")
}

// ErrGroupBehind is wrapped by AwaitCommitted's error when ctx ends before
// the group has caught up.
var ErrGroupBehind = errors.New("the group has not committed up to the end offsets")

// AwaitCommitted waits until group has committed, on topic, at least the
// offset given in targets for every partition (a partition with a target
// of 0 or less needs no commit). progress, when not nil, is called after
// every look at the group's offsets with the sum of the committed offsets,
// each capped at its target (0 while the group has none). It returns nil
// once the group has caught up, or an error wrapping ErrGroupBehind that
// says which partitions are behind when ctx ends first.
func AwaitCommitted(ctx context.Context, adm *kadm.Client, group, topic string, targets Offsets, progress func(committed int64)) error {
	const every = 20 * time.Millisecond
	last := "it has committed no offsets"
	for {
		committed, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			last = err.Error()
		} else {
			var sum int64
			var behind Offsets
			for p, target := range targets {
				o, ok := committed.Lookup(topic, p)
				if ok && o.Err == nil && o.At > 0 {
					sum += min(o.At, max(target, 0))
				}
				if target > 0 && (!ok || o.Err != nil || o.At < target) {
					if behind == nil {
						behind = make(Offsets)
					}
					at := int64(-1)
					if ok && o.Err == nil {
						at = o.At
					}
					behind[p] = at
				}
			}
			if progress != nil {
				progress(sum)
			}
			if len(behind) == 0 {
				return nil
			}
			last = fmt.Sprintf("committed %s (-1: none) of targets %s", describe(behind), describe(targets))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("group %s on %s: %w: %s: %w", group, topic, ErrGroupBehind, last, context.Cause(ctx))
		case <-time.After(every):
		}
	}
}
