// Package verifytest makes the results a processor would write for given
// inputs, and breaks them on purpose, one violation of a kind at a time, so
// that tests can show package verify and `ktool verify` find each kind.
package verifytest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/event-processor/event-processor/processor"
	"github.com/event-processor/event-processor/verify"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Results returns the result of every input, in input order, as rt makes
// it, each on the partition of its input (produce them with
// kgo.ManualPartitioner).
func Results(rt *processor.Router, inputs []*kgo.Record) []*kgo.Record {
	out := make([]*kgo.Record, len(inputs))
	for i, in := range inputs {
		r, _ := rt.Route(in)
		r.Partition = in.Partition
		out[i] = r
	}
	return out
}

// Inject returns a copy of results with exactly one violation of kind k,
// as package verify counts them: one result dropped, one repeated, one
// naming an offset beyond the input's end, one with another result's value,
// one moved to the other topic, or two results of one input partition
// swapped. errorTopic is the error topic's name. It panics if results hold
// no pair it can use.
func Inject(k verify.Kind, results []*kgo.Record, errorTopic string) []*kgo.Record {
	rs := slices.Clone(results)
	mid := len(rs) / 2
	switch k {
	case verify.Missing:
		return slices.Delete(rs, mid, mid+1)
	case verify.Duplicated:
		return append(rs, clone(rs[mid]))
	case verify.Orphaned:
		r := clone(rs[mid])
		for i, h := range r.Headers {
			if h.Key == processor.HeaderSourceOffset {
				r.Headers[i].Value = strconv.AppendInt(nil, 1<<40, 10)
			}
		}
		return append(rs, r)
	case verify.Mismatched:
		for i := mid; i < len(rs); i++ {
			for j := i + 1; j < len(rs); j++ {
				if rs[j].Topic == rs[i].Topic && !bytes.Equal(rs[j].Value, rs[i].Value) {
					r := clone(rs[i])
					r.Value = rs[j].Value
					rs[i] = r
					return rs
				}
			}
		}
	case verify.Misrouted:
		for i := mid; i < len(rs); i++ {
			if rs[i].Topic != errorTopic {
				r := clone(rs[i])
				r.Topic = errorTopic
				rs[i] = r
				return rs
			}
		}
	case verify.OutOfOrder:
		for i := mid; i+1 < len(rs); i++ {
			for j := i + 1; j < len(rs); j++ {
				if rs[j].Topic == rs[i].Topic && rs[j].Partition == rs[i].Partition {
					rs[i], rs[j] = rs[j], rs[i]
					return rs
				}
			}
		}
	}
	panic(fmt.Sprintf("verifytest: cannot inject %s into %d results", k, len(results)))
}

func clone(r *kgo.Record) *kgo.Record {
	c := &kgo.Record{Topic: r.Topic, Partition: r.Partition, Key: r.Key, Value: r.Value}
	c.Headers = slices.Clone(r.Headers)
	return c
}

// Produce writes records to their topics and partitions in one
// transaction with the transactional id txnID, and commits it, or aborts it
// when commit is false. opts connect to the cluster.
func Produce(ctx context.Context, opts []kgo.Opt, txnID string, records []*kgo.Record, commit bool) error {
	cl, err := kgo.NewClient(append(slices.Clone(opts),
		kgo.TransactionalID(txnID), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		cl.EndTransaction(ctx, kgo.TryAbort)
		return fmt.Errorf("producing: %w", err)
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		return fmt.Errorf("ending the transaction: %w", err)
	}
	return nil
}
