package integration

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/event-processor/event-processor/processor"
	"github.com/event-processor/event-processor/verify"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// pipeline is one test's three topics and group on a broker.
type pipeline struct {
	b                      *Broker
	input, output, errored string
	group                  string
	// verifyOpts, when set, are the client options checkExactlyOnce
	// connects with (seed brokers included), e.g. a secured listener's;
	// nil means the broker's plaintext address.
	verifyOpts []kgo.Opt
}

func newPipeline(t *testing.T, b *Broker, partitions int32, outputConfigs map[string]*string) *pipeline {
	t.Helper()
	p := definePipeline(t, b)
	p.createTopics(t, partitions, outputConfigs)
	return p
}

// definePipeline names a pipeline's topics without creating them.
func definePipeline(t *testing.T, b *Broker) *pipeline {
	name := strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())
	return &pipeline{b: b, input: name + "-in", output: name + "-out", errored: name + "-err", group: name + "-group"}
}

func (p *pipeline) createTopics(t *testing.T, partitions int32, outputConfigs map[string]*string) {
	t.Helper()
	adm := admin(t, p.b)
	for _, tc := range []struct {
		name string
		cfg  map[string]*string
	}{{p.input, nil}, {p.output, outputConfigs}, {p.errored, nil}} {
		if err := CreateTopic(t.Context(), adm, tc.name, partitions, tc.cfg); err != nil {
			t.Fatal(err)
		}
	}
}

func (p *pipeline) config(instance string) processor.Config {
	cfg := processor.DefaultConfig()
	cfg.Brokers = []string{p.b.Addr}
	cfg.InputTopic, cfg.OutputTopic, cfg.ErrorTopic = p.input, p.output, p.errored
	cfg.Group = p.group
	cfg.TransactionalID = p.group + "-" + instance
	cfg.HTTPAddr = ""
	cfg.TransactionTimeout = 10 * time.Second
	cfg.ShutdownTimeout = 10 * time.Second
	return cfg
}

// instance is a processor running in this test process.
type instance struct {
	cancel context.CancelFunc
	done   chan error
}

// start runs a processor until stop or the end of the test.
func (p *pipeline) start(t *testing.T, cfg processor.Config) *instance {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})).With("instance", cfg.TransactionalID)
	proc, err := processor.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- proc.Run(ctx) }()
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stop shuts the processor down gracefully and checks it returned nil.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("processor returned %v after a graceful stop, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("processor did not stop within 30s of cancellation")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// produce writes values to the input topic, non-transactionally, keyed by
// nothing so that the processor's key falls back to the event id, and
// returns them by partition and offset.
func (p *pipeline) produce(t *testing.T, values [][]byte) map[srcPos][]byte {
	t.Helper()
	cl := newClient(t, p.b, kgo.DefaultProduceTopic(p.input), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Value: v}
		if i%7 == 0 {
			recs[i].Headers = []kgo.RecordHeader{{Key: "trace-id", Value: []byte(strconv.Itoa(i))}}
		}
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatalf("producing inputs: %v", err)
	}
	out := make(map[srcPos][]byte, len(recs))
	for _, r := range recs {
		out[srcPos{r.Partition, r.Offset}] = r.Value
	}
	return out
}

type srcPos struct {
	partition int32
	offset    int64
}

// feeder produces inputs in the background, batch by batch, until stopped,
// so that whatever a test does to the processor meanwhile happens while
// input is still arriving.
type feeder struct {
	stopc  chan struct{}
	done   chan struct{}
	inputs map[srcPos][]byte
	err    error
}

// feed produces values in batches of size, one batch every interval, going
// round values again (at new offsets) until stop is called.
func (p *pipeline) feed(t *testing.T, values [][]byte, size int, interval time.Duration) *feeder {
	t.Helper()
	cl := newClient(t, p.b, kgo.DefaultProduceTopic(p.input), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	f := &feeder{stopc: make(chan struct{}), done: make(chan struct{}), inputs: make(map[srcPos][]byte)}
	go func() {
		defer close(f.done)
		for next := 0; ; {
			recs := make([]*kgo.Record, size)
			for i := range recs {
				recs[i] = &kgo.Record{Value: values[next%len(values)]}
				next++
			}
			if f.err = cl.ProduceSync(context.Background(), recs...).FirstErr(); f.err != nil {
				return
			}
			for _, r := range recs {
				f.inputs[srcPos{r.Partition, r.Offset}] = r.Value
			}
			select {
			case <-f.stopc:
				return
			case <-time.After(interval):
			}
		}
	}()
	t.Cleanup(func() { f.stop(t) })
	return f
}

// stop stops the feeder and returns what it produced.
func (f *feeder) stop(t *testing.T) map[srcPos][]byte {
	t.Helper()
	select {
	case <-f.stopc:
	default:
		close(f.stopc)
	}
	select {
	case <-f.done:
	case <-time.After(time.Minute):
		t.Fatal("feeder did not stop within a minute")
	}
	if f.err != nil {
		t.Fatalf("feeding inputs: %v", f.err)
	}
	return f.inputs
}

// committed returns the total of the group's committed offsets on the
// input topic.
func (p *pipeline) committed(t *testing.T) int64 {
	t.Helper()
	committed, err := admin(t, p.b).FetchOffsets(t.Context(), p.group)
	if err != nil {
		return 0
	}
	var total int64
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Topic == p.input && o.Err == nil {
			total += o.At
		}
	})
	return total
}

// awaitCommitted waits until the group has committed at least n offsets in
// total on the input topic.
func (p *pipeline) awaitCommitted(t *testing.T, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for p.committed(t) < n {
		if time.Now().After(deadline) {
			t.Fatalf("group %s did not commit %d offsets within %s (committed %d)", p.group, n, timeout, p.committed(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// result is one record read back from the output or error topic.
type result struct {
	topic string
	rec   *kgo.Record
}

// readResults reads the output and error topics to their end under
// read_committed.
func (p *pipeline) readResults(t *testing.T) []result {
	t.Helper()
	var out []result
	for _, topic := range []string{p.output, p.errored} {
		recs, err := ReadAll(t.Context(), p.b.Addr, topic, kgo.ReadCommitted())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			out = append(out, result{topic: topic, rec: r})
		}
	}
	return out
}

// checkExactlyOnce waits up to timeout for the group to commit every input,
// then verifies the results with package verify: every input has exactly
// one result, as the processor makes it, on the right topic, in input
// order, and nothing else is there. inputs are what the test produced.
func (p *pipeline) checkExactlyOnce(t *testing.T, inputs map[srcPos][]byte, timeout time.Duration) (outputs, errors int) {
	t.Helper()
	cfg := p.config("verify")
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	opts := p.verifyOpts
	if opts == nil {
		opts = []kgo.Opt{kgo.SeedBrokers(p.b.Addr)}
	}
	r, err := verify.Run(ctx, opts, verify.Config{Processor: cfg, Group: p.group, Examples: 10})
	if err != nil {
		t.Fatalf("verifying: %v", err)
	}
	if !r.OK() || r.Inputs != int64(len(inputs)) || r.Outputs+r.Errors != int64(len(inputs)) {
		var b strings.Builder
		r.WriteText(&b)
		t.Fatalf("%d inputs produced, verify says:\n%s", len(inputs), b.String())
	}
	return int(r.Outputs), int(r.Errors)
}

// liveReader reads a topic under read_committed while the test runs and
// records the provenance of every record it sees.
type liveReader struct {
	mu   sync.Mutex
	seen map[srcPos]int
	dups int
	stop context.CancelFunc
	done chan struct{}
}

func (p *pipeline) startLiveReader(t *testing.T, topics ...string) *liveReader {
	t.Helper()
	cl := newClient(t, p.b, kgo.ConsumeTopics(topics...), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.WithLogger(nil))
	ctx, cancel := context.WithCancel(t.Context())
	lr := &liveReader{seen: make(map[srcPos]int), stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(lr.done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				src, _ := processor.Provenance(r) // an orphan counts as the zero source
				pos := srcPos{src.Partition, src.Offset}
				lr.mu.Lock()
				lr.seen[pos]++
				if lr.seen[pos] > 1 {
					lr.dups++
				}
				lr.mu.Unlock()
			})
		}
	}()
	return lr
}

func (lr *liveReader) finish() (seen, dups int) {
	lr.stop()
	<-lr.done
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return len(lr.seen), lr.dups
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
