package processor

import (
	"strconv"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkRoute is the per-record work of the processor's hot path on the
// benchmark's mixed input (examples.Mixed: keyless, 90% valid): the
// transform, the result record, its key and its headers, provenance
// included; every seventh input with a header of its own, or every input
// (as in the latency benchmark, whose inputs carry their produce time).
func BenchmarkRoute(b *testing.B) {
	b.Run("header=every-7th", func(b *testing.B) { benchmarkRoute(b, 7) })
	b.Run("header=every", func(b *testing.B) { benchmarkRoute(b, 1) })
}

func benchmarkRoute(b *testing.B, headerEvery int) {
	cfg := DefaultConfig()
	rt, err := NewRouter(cfg, cfg.MaxRecordBytes, func() time.Time { return time.UnixMilli(1733328000000) })
	if err != nil {
		b.Fatal(err)
	}
	values := examples.Mixed(10_000, 1)
	ins := make([]*kgo.Record, len(values))
	var bytes int64
	for i, v := range values {
		ins[i] = &kgo.Record{Topic: cfg.InputTopic, Partition: int32(i % 3), Offset: int64(1_000_000 + i), Value: v}
		if i%headerEvery == 0 {
			ins[i].Headers = []kgo.RecordHeader{{Key: "trace-id", Value: strconv.AppendInt(nil, int64(i), 10)}}
		}
		bytes += int64(len(v))
	}
	b.SetBytes(bytes / int64(len(ins)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rt.Route(ins[i%len(ins)])
	}
}
