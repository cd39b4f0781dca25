package bench

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/event-processor/event-processor/bench/internal/report"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/integration"
	"github.com/event-processor/event-processor/processor"
	"github.com/event-processor/event-processor/verify"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

var (
	flagEvents = flag.Int("bench.events", 500_000, "input events pre-produced for each run")
	flagRounds = flag.Int("bench.rounds", 5, "rounds of BenchmarkSideBySide; each round runs every variant once, in rotated order")
	flagLoad   = flag.Float64("bench.maxload", 1.5, "wait until the 1-minute load average is below this before each run")
	flagWait   = flag.Duration("bench.loadwait", 90*time.Second, "longest wait for -bench.maxload before a run (15 minutes before BenchmarkSideBySide's first)")
)

const (
	partitions = 3
	runTimeout = 2 * time.Minute // one run, from start until caught up
)

// The broker is started on first use by a benchmark, never for the unit
// tests, and removed by TestMain.
var (
	brokerOnce sync.Once
	broker     *integration.Broker
	brokerErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if broker != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		broker.Terminate(ctx)
		cancel()
	}
	os.Exit(code)
}

// sharedBroker starts the package's broker once, waiting up to five minutes
// for a Docker engine to answer.
func sharedBroker(b *testing.B) *integration.Broker {
	b.Helper()
	brokerOnce.Do(func() {
		setTestcontainersEnv()
		deadline := time.Now().Add(5 * time.Minute)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			broker, brokerErr = integration.StartBroker(ctx)
			cancel()
			if !errors.Is(brokerErr, integration.ErrNoDocker) || time.Now().After(deadline) {
				return
			}
			fmt.Fprintf(os.Stderr, "bench: %v; retrying in 10s\n", brokerErr)
			time.Sleep(10 * time.Second)
		}
	})
	if brokerErr != nil {
		b.Fatalf("starting the broker: %v", brokerErr)
	}
	return broker
}

// setTestcontainersEnv sets, where unset, what the Makefile sets: no Ryuk,
// and every container is on the host network. Call it before the first
// testcontainers call reads them.
func setTestcontainersEnv() {
	for k, v := range map[string]string{"TESTCONTAINERS_RYUK_DISABLED": "true", "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1"} {
		if _, ok := os.LookupEnv(k); !ok {
			os.Setenv(k, v)
		}
	}
}

var (
	inputOnce sync.Once
	inputs    [][]byte
)

func benchInputs() [][]byte {
	inputOnce.Do(func() { inputs = examples.Mixed(*flagEvents, 42) })
	return inputs
}

// A variant is one implementation of the job. start runs it against p and
// returns a function that stops it.
type variant struct {
	name        string
	exactlyOnce bool
	// ownEncoding marks a peer that does the same job with its own JSON
	// encoder (Kafka Streams' tree model re-encodes values and words error
	// messages its own way): its results are checked for exactly-once,
	// routing and order, not for byte equality with this contract.
	ownEncoding bool
	start       func(ctx context.Context, p *pipeline) (stop func() error, err error)
}

// pipeline is one run's topics and group.
type pipeline struct {
	addr                   string
	input, output, errored string
	group                  string
}

// newPipeline creates a fresh pipeline's topics, named after name and the
// time.
func newPipeline(b *testing.B, adm *kadm.Client, addr, name string) *pipeline {
	b.Helper()
	id := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	p := &pipeline{addr: addr, input: id + "-in", output: id + "-out", errored: id + "-err", group: id}
	for _, topic := range []string{p.input, p.output, p.errored} {
		if err := integration.CreateTopic(context.Background(), adm, topic, partitions, nil); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// config is the processor's configuration for p.
func (p *pipeline) config() processor.Config {
	cfg := processor.DefaultConfig()
	cfg.Brokers = []string{p.addr}
	cfg.InputTopic, cfg.OutputTopic, cfg.ErrorTopic = p.input, p.output, p.errored
	cfg.Group = p.group
	cfg.TransactionalID = p.group + "-0"
	cfg.HTTPAddr = ""
	return cfg
}

// result is what one run measured.
type result struct {
	variant string
	events  int64
	total   time.Duration // from start until the group's commits reached the input's end
	steady  time.Duration // from the first commit seen until the end
	steadyN int64         // events committed in steady
	load    float64       // 1-minute load average at the start
	outputs int64         // read_committed records on the output and error topics
	errors  int64         // of which on the error topic
	dups    int64         // outputs beyond one per input
}

func (r result) rate() float64       { return float64(r.events) / r.total.Seconds() }
func (r result) steadyRate() float64 { return float64(r.steadyN) / r.steady.Seconds() }

func (r result) String() string {
	return fmt.Sprintf("%-22s %8.0f events/s (%d events in %s), steady %8.0f events/s, load1 %.2f, %d results (%d errors), %d duplicates",
		r.variant, r.rate(), r.events, r.total.Round(time.Millisecond), r.steadyRate(), r.load, r.outputs, r.errors, r.dups)
}

// runOnce creates fresh topics, pre-produces the inputs, waits for a quiet
// machine, runs v until its group has committed every input, stops it and
// counts its results. The first call also warms the broker up.
func runOnce(b *testing.B, v variant) result {
	b.Helper()
	warmOnce.Do(func() {
		// The first group and the first transactional producer on a new
		// broker create __consumer_offsets and __transaction_state, and the
		// broker's JVM has yet to compile its hot paths (unwarmed, every
		// variant's first round was 20-50% slower than its last): neither
		// may be charged to whichever variant runs first. 100-record
		// transactions take the transactional paths 2000 times.
		warm := examples.Mixed(200_000, 7)
		for _, w := range []variant{processorVariant("warm-up", 100), atLeastOncePipe} {
			run(b, w, warm, 0)
		}
	})
	return run(b, v, benchInputs(), *flagWait)
}

var warmOnce sync.Once

// run is one run of v on values, after waiting up to wait for a quiet
// machine.
func run(b *testing.B, v variant, values [][]byte, wait time.Duration) result {
	b.Helper()
	brk := sharedBroker(b)
	ctx := context.Background()
	adm, err := brk.Admin()
	if err != nil {
		b.Fatal(err)
	}
	defer adm.Close()

	p := newPipeline(b, adm, brk.Addr, "bench-"+strings.ReplaceAll(v.name, "/", "-"))
	defer func() {
		// Keep the broker's logs small for the runs that follow.
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		adm.DeleteTopics(dctx, p.input, p.output, p.errored)
		adm.DeleteGroup(dctx, p.group)
	}()
	n, err := preProduce(ctx, brk.Addr, p.input, values)
	if err != nil {
		b.Fatal(err)
	}
	ends, err := verify.EndOffsets(ctx, adm, p.input)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()

	load, _ := loadAvg()
	if wait > 0 {
		load = waitForQuiet(b, *flagLoad, wait)
	}
	start := time.Now()
	stop, err := v.start(ctx, p)
	if err != nil {
		b.Fatalf("%s: starting: %v", v.name, err)
	}
	firstAt, firstN, endAt, err := awaitCommitted(ctx, adm, p.group, p.input, ends, start.Add(runTimeout))
	if serr := stop(); serr != nil {
		b.Errorf("%s: stopping: %v", v.name, serr)
	}
	if err != nil {
		b.Fatalf("%s: %v", v.name, err)
	}
	r := result{variant: v.name, events: n, total: endAt.Sub(start), steady: endAt.Sub(firstAt), steadyN: n - firstN, load: load}
	if r.steady <= 0 || r.steadyN <= 0 { // everything committed at once
		r.steady, r.steadyN = r.total, n
	}

	rep, err := verifyRun(ctx, brk.Addr, p)
	if err != nil {
		b.Fatalf("%s: verifying the results: %v", v.name, err)
	}
	r.outputs, r.errors, r.dups = rep.Outputs+rep.Errors, rep.Errors, rep.Count(verify.Duplicated)
	if want := n / 10; r.errors < want || v.exactlyOnce && r.errors != want {
		b.Errorf("%s: %d error events, want %d (every tenth input is invalid)", v.name, r.errors, want)
	}
	// Every run must be right; an at-least-once run may repeat results
	// (and so put a repeat after later results), nothing else.
	wrong := rep.Violations()
	if !v.exactlyOnce {
		wrong -= rep.Count(verify.Duplicated) + rep.Count(verify.OutOfOrder)
	}
	if v.ownEncoding {
		wrong -= rep.Count(verify.Mismatched)
	}
	if wrong > 0 || rep.Inputs != n {
		var text strings.Builder
		rep.WriteText(&text)
		b.Errorf("%s: %d inputs produced; verify says:\n%s", v.name, n, text.String())
	}
	if wait > 0 {
		b.Log(r)
	}
	return r
}

// preProduce writes values to topic round-robin over its partitions, as
// plain records without keys (every seventh with a header), and returns how
// many it wrote.
func preProduce(ctx context.Context, addr, topic string, values [][]byte) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for i, v := range values {
		r := &kgo.Record{Value: v}
		if i%7 == 0 {
			r.Headers = []kgo.RecordHeader{{Key: "trace-id", Value: strconv.AppendInt(nil, int64(i), 10)}}
		}
		wg.Add(1)
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, fmt.Errorf("producing the inputs to %s: %w", topic, first)
	}
	return int64(len(values)), nil
}

// awaitCommitted waits until group's committed offsets on topic reach
// ends, and returns when it first saw a commit, how many events that
// commit covered, and when the group caught up.
func awaitCommitted(ctx context.Context, adm *kadm.Client, group, topic string, ends verify.Offsets, deadline time.Time) (firstAt time.Time, firstN int64, endAt time.Time, err error) {
	ctx, cancel := context.WithDeadlineCause(ctx, deadline, fmt.Errorf("not caught up within %s", runTimeout))
	defer cancel()
	err = verify.AwaitCommitted(ctx, adm, group, topic, ends, func(committed int64) {
		if committed > 0 && firstAt.IsZero() {
			firstAt, firstN = time.Now(), committed
		}
	})
	return firstAt, firstN, time.Now(), err
}

// verifyRun checks one run's results with package verify.
func verifyRun(ctx context.Context, addr string, p *pipeline) (*verify.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return verify.Run(ctx, []kgo.Opt{kgo.SeedBrokers(addr)}, verify.Config{Processor: p.config()})
}

// waitForQuiet waits until the 1-minute load average is below max, for at
// most wait, and returns the load average it starts at.
func waitForQuiet(b *testing.B, max float64, wait time.Duration) float64 {
	b.Helper()
	deadline := time.Now().Add(wait)
	for {
		load, err := loadAvg()
		if err != nil {
			b.Logf("reading the load average: %v (not waiting)", err)
			return -1
		}
		if load < max {
			return load
		}
		if time.Now().After(deadline) {
			b.Logf("load average %.2f still above %.2f after %s: measuring anyway", load, max, wait)
			return load
		}
		time.Sleep(5 * time.Second)
	}
}

func loadAvg() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, errors.New("empty /proc/loadavg")
	}
	return strconv.ParseFloat(f[0], 64)
}

// report adds a run's figures to b's result line.
func reportRun(b *testing.B, r result) {
	b.ReportMetric(r.rate(), "events/s")
	b.ReportMetric(r.steadyRate(), "steady-events/s")
	b.ReportMetric(r.load, "load1")
}

func BenchmarkEventProcessor(b *testing.B) {
	for range b.N {
		reportRun(b, runOnce(b, eventProcessor))
	}
}

func BenchmarkEventProcessorTxn1k(b *testing.B) {
	for range b.N {
		reportRun(b, runOnce(b, eventProcessorTxn1k))
	}
}

func BenchmarkAtLeastOncePipe(b *testing.B) {
	for range b.N {
		reportRun(b, runOnce(b, atLeastOncePipe))
	}
}

func BenchmarkKafkaStreams(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			v := kafkaStreams(threads)
			if err := streamsAvailable(); err != nil {
				b.Skip(err)
			}
			for range b.N {
				reportRun(b, runOnce(b, v))
			}
		})
	}
}

// BenchmarkSideBySide is the comparison docs/benchmarks.md reports: on one
// broker and one input, -bench.rounds rounds of every variant, the order
// rotated each round so that no variant always runs first or last, then the
// median of each variant and the ratios of the medians.
func BenchmarkSideBySide(b *testing.B) {
	variants := []variant{eventProcessor, atLeastOncePipe, eventProcessorTxn1k}
	if err := streamsAvailable(); err != nil {
		b.Logf("Kafka Streams left out: %v", err)
	} else {
		variants = append(variants, kafkaStreams(1), kafkaStreams(2))
	}
	sharedBroker(b)
	if load := waitForQuiet(b, *flagLoad, 15*time.Minute); load >= 0 {
		b.Logf("load average %.2f before the first round", load)
	}
	for range b.N {
		runs := make(map[string][]result)
		for round := range *flagRounds {
			for i := range variants {
				v := variants[(i+round)%len(variants)]
				r := runOnce(b, v)
				runs[v.name] = append(runs[v.name], r)
			}
		}
		med := make(map[string]float64)
		steady := make(map[string]float64)
		lines := []string{
			"| variant | events/s, median | runs | steady events/s, median | runs | load1 at start |",
			"|---|---:|---|---:|---|---|",
		}
		for _, v := range variants {
			var rates, steadies, loads []float64
			for _, r := range runs[v.name] {
				rates = append(rates, r.rate())
				steadies = append(steadies, r.steadyRate())
				loads = append(loads, r.load)
			}
			med[v.name], steady[v.name] = report.Median(rates), report.Median(steadies)
			lines = append(lines, fmt.Sprintf("| %s | %.0f | %s | %.0f | %s | %s |",
				v.name, med[v.name], join(rates, "%.0f"), steady[v.name], join(steadies, "%.0f"), join(loads, "%.2f")))
			b.ReportMetric(med[v.name], v.name+"-events/s")
		}
		lines = append(lines, "", "| ratio of medians | events/s | steady events/s |", "|---|---:|---:|")
		ep := eventProcessor.name
		for _, other := range variants[1:] {
			lines = append(lines, fmt.Sprintf("| %s / %s | %.2f | %.2f |", ep, other.name, med[ep]/med[other.name], steady[ep]/steady[other.name]))
			b.ReportMetric(med[ep]/med[other.name], "x-"+other.name)
		}
		b.Logf("%d events a run, medians of %d rounds:\n%s", *flagEvents, *flagRounds, strings.Join(lines, "\n"))
	}
}

func join(xs []float64, format string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, " ")
}
