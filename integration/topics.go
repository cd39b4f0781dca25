package integration

import (
	"context"
	"fmt"

	"github.com/event-processor/event-processor/verify"
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

// ReadAll reads topic from its start up to the high watermark every
// partition had when ReadAll was called, under the given isolation level
// (kgo.ReadCommitted() or kgo.ReadUncommitted()), and returns its data
// records in offset order per partition (see verify.Read).
func ReadAll(ctx context.Context, addr, topic string, isolation kgo.IsolationLevel) ([]*kgo.Record, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return nil, err
	}
	ends, err := verify.EndOffsets(ctx, kadm.NewClient(cl), topic)
	cl.Close()
	if err != nil {
		return nil, err
	}
	var out []*kgo.Record
	err = verify.Read(ctx, []kgo.Opt{kgo.SeedBrokers(addr)}, topic, nil, ends, isolation, func(r *kgo.Record) { out = append(out, r) })
	return out, err
}
