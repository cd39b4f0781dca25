package integration

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// CreateTopic creates topic with the given partitions (replication factor 1)
// and topic configs, and waits until the broker reports it.
func CreateTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) error {
	resp, err := adm.CreateTopic(ctx, partitions, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	return nil
}

// EndOffsets returns the high watermark of every partition of topic.
func EndOffsets(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets of %s: %w", topic, err)
	}
	if err := listed.Error(); err != nil {
		return nil, fmt.Errorf("listing end offsets of %s: %w", topic, err)
	}
	ends := make(map[int32]int64)
	for p, o := range listed[topic] {
		ends[p] = o.Offset
	}
	if len(ends) == 0 {
		return nil, fmt.Errorf("listing end offsets of %s: topic has no partitions", topic)
	}
	return ends, nil
}

// ReadAll reads topic from its start up to the high watermark every
// partition had when ReadAll was called, under the given isolation level
// (kgo.ReadCommitted() or kgo.ReadUncommitted()), and returns its data
// records in partition-then-offset order of arrival. Under read_committed it
// waits for transactions open below that mark to end. Control records (the
// commit and abort markers) count towards reaching the mark but are not
// returned.
func ReadAll(ctx context.Context, addr, topic string, isolation kgo.IsolationLevel) ([]*kgo.Record, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return nil, err
	}
	ends, err := EndOffsets(ctx, kadm.NewClient(cl), topic)
	cl.Close()
	if err != nil {
		return nil, err
	}
	return ReadUntil(ctx, addr, topic, isolation, ends)
}

// ReadUntil reads topic from its start until every partition reaches the
// offset given for it in ends.
func ReadUntil(ctx context.Context, addr, topic string, isolation kgo.IsolationLevel, ends map[int32]int64) ([]*kgo.Record, error) {
	remaining := maps.Clone(ends)
	for p, end := range remaining {
		if end <= 0 {
			delete(remaining, p)
		}
	}
	if len(remaining) == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(isolation),
		kgo.KeepControlRecords(),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	var out []*kgo.Record
	for len(remaining) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("reading %s: %d partitions short of their end (%v): %w", topic, len(remaining), remaining, err)
		}
		var errs []error
		fetches.EachError(func(t string, p int32, err error) {
			errs = append(errs, fmt.Errorf("partition %d: %w", p, err))
		})
		if len(errs) > 0 {
			return out, fmt.Errorf("reading %s: %w", topic, errors.Join(errs...))
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if end, ok := remaining[r.Partition]; ok && r.Offset >= end-1 {
				delete(remaining, r.Partition)
			}
			if r.Attrs.IsControl() {
				return
			}
			if end, ok := ends[r.Partition]; ok && r.Offset < end {
				out = append(out, r)
			}
		})
	}
	return out, nil
}
