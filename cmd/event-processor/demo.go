//go:build !nodemo

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/processor"
	"github.com/event-processor/event-processor/verify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const demoUsage = `usage: event-processor demo [flags]

Runs the event processor on an embedded, in-process Kafka-compatible broker
(franz-go's kfake), so you can see it work without a cluster. It creates the
input, output and error topics, produces the sample events (built in; the same
file as examples/sample-events.json) and invalid messages of every kind,
processes them with the same code as "event-processor run", exactly once, then
reads the output and error topics under read_committed and prints the events
and a summary.

The embedded broker is an in-process stand-in for trying things out; it keeps
nothing when the command exits. Production needs a real Kafka cluster.

Exit status: 0 ok, 1 the demo failed (or --file cannot be read), 2 bad flags.

Flags:
`

// demoTransactionalID is the demo's transactional id: a fixed one, since the
// broker lives only as long as the command.
const demoTransactionalID = "event-processor-demo"

// demoMaxEvents bounds --events: the embedded broker keeps every input and
// result in memory (777 MB peak RSS measured at 2,000,000).
const demoMaxEvents = 2_000_000

// demoPrintAll is the number of results up to which the demo prints every
// one; above it, it prints the first demoPrintFew of each topic.
const (
	demoPrintAll = 50
	demoPrintFew = 5
)

// demoCommand implements "event-processor demo".
func demoCommand(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runDemo(ctx, args, stdout, stderr, nil)
}

// demoInput is one record the demo produces to the input topic.
type demoInput struct {
	key, value []byte
	label      string // what an invalid message is, for the listing; "" for events
	partition  int32  // where it was written, set once produced
	offset     int64
}

// runDemo is the demo. Cancelling ctx stops it (SIGINT and SIGTERM do, via
// demoCommand); with --serve, that is the only way it ends. serving, when
// not nil, is called with the bootstrap address once the demo is serving
// (tests use it in place of a person reading the output).
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer, serving func(addr string)) int {
	fs := flag.NewFlagSet("event-processor demo", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), demoUsage)
		fs.PrintDefaults()
	}
	cfg := processor.DefaultConfig()
	var (
		events     = fs.Int("events", 0, "also produce this many generated events, to show throughput")
		serve      = fs.Bool("serve", false, "keep the broker and the processor running after the demo, until Ctrl-C, for ktool")
		partitions = fs.Int("partitions", 3, "partitions of each of the three topics")
		file       = fs.String("file", "", "produce the events of this file instead of the built-in samples (a JSON array, or one JSON value per line)")
	)
	// The processor's own options the demo takes, with their environment
	// twins; the demo serves no HTTP unless asked.
	cfg.HTTPAddr = ""
	cfg.BindFlags(fs, "pipeline-name", "http-addr")
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "event-processor demo: "+format+"\n", a...)
		return code
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if err := cfg.ApplyEnv(fs, os.LookupEnv); err != nil {
		return fail(2, "%v", err)
	}
	switch {
	case fs.NArg() > 0:
		return fail(2, "unexpected argument %q (options are flags, e.g. --events 1000)", fs.Arg(0))
	case *events < 0:
		return fail(2, "--events: must be 0 or more, got %d", *events)
	case *events > demoMaxEvents:
		return fail(2, "--events: at most %d (the embedded broker keeps every record in memory, about 400 MB a million events), got %d", demoMaxEvents, *events)
	case *partitions < 1 || *partitions > 1000:
		return fail(2, "--partitions: must be between 1 and 1000, got %d", *partitions)
	}
	cfg.TransactionalID = demoTransactionalID
	cfg.LogLevel, cfg.LogFormat = "warn", "text" // keep the demo's output readable
	if err := cfg.Validate(); err != nil {
		return fail(2, "%v", err)
	}

	samples, source := examples.SampleEvents, "built-in examples/sample-events.json"
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return fail(1, "reading --file: %v", err)
		}
		samples, source = b, *file
	}
	inputs, err := demoSamples(samples)
	if err != nil {
		return fail(1, "--file %s: %v", source, err)
	}
	nSamples := len(inputs)
	inputs = append(inputs, demoInvalid(cfg.MaxRecordBytes)...)
	nInvalid := len(inputs) - nSamples
	total := len(inputs) + *events
	// Generated events are kept for the listing only when every result is
	// listed; otherwise they are made as they are produced, so memory does
	// not grow with --events beyond what the embedded broker keeps.
	streamed := *events
	if total <= demoPrintAll {
		for i := range *events {
			inputs = append(inputs, demoGenerated(i))
		}
		streamed = 0
	}

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1),
		kfake.SeedTopics(int32(*partitions), cfg.InputTopic, cfg.OutputTopic, cfg.ErrorTopic))
	if err != nil {
		return fail(1, "starting the embedded broker: %v", err)
	}
	defer cluster.Close()
	addr := cluster.ListenAddrs()[0]
	cfg.Brokers = []string{addr}

	fmt.Fprintf(stdout, `event-processor demo

  NOTE: the broker here is franz-go's kfake, an in-process stand-in for Kafka
  that lives and dies with this command. It is for trying the processor out;
  production needs a real Kafka cluster (event-processor run --help).

broker        %s (embedded kfake, 1 broker, in memory)
topics        %s -> %s, %s (%d partitions each)
processor     group %s, transactional id %s, read_committed, exactly once
`, addr, cfg.InputTopic, cfg.OutputTopic, cfg.ErrorTopic, *partitions, cfg.Group, cfg.TransactionalID)
	if cfg.HTTPAddr != "" {
		fmt.Fprintf(stdout, "metrics       http://%s/metrics (also /healthz, /readyz)\n", demoHTTPHost(cfg.HTTPAddr))
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.WithLogger(nil))
	if err != nil {
		return fail(1, "creating the demo's client: %v", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	produceStart := time.Now()
	end, err := demoProduce(ctx, cl, cfg.InputTopic, inputs, streamed)
	if err != nil {
		if ctx.Err() != nil {
			return fail(1, "interrupted")
		}
		return fail(1, "producing the input: %v", err)
	}
	fmt.Fprintf(stdout, "input         %d records: %d events from the %s, %d invalid messages",
		total, nSamples, source, nInvalid)
	if *events > 0 {
		fmt.Fprintf(stdout, ", %d generated events", *events)
	}
	fmt.Fprintf(stdout, " (produced in %s)\n", time.Since(produceStart).Round(time.Millisecond))

	log, err := processor.NewLogger(cfg, stderr)
	if err != nil {
		return fail(2, "%v", err)
	}
	p, err := processor.New(cfg, log)
	if err != nil {
		return fail(2, "%v", err)
	}
	pctx, stopProcessor := context.WithCancel(ctx)
	defer stopProcessor()
	runErr := make(chan error, 1)
	started := time.Now()
	go func() { runErr <- p.Run(pctx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		stopProcessor()
		return <-runErr
	}
	defer stop()

	timeout := 30*time.Second + time.Duration(total)*2*time.Millisecond
	firstPoll, done, err := demoAwait(ctx, adm, p.Gatherer(), cfg.Group, cfg.InputTopic, end, runErr, timeout)
	if err != nil {
		stopped = stopped || errors.Is(err, errProcessorStopped)
		if ctx.Err() != nil {
			return fail(1, "interrupted")
		}
		return fail(1, "%v", err)
	}
	if !*serve {
		// Graceful stop, as on SIGTERM: the results are committed already,
		// and they are read below from the broker alone.
		if err := stop(); err != nil {
			return fail(1, "the processor stopped with an error: %v", err)
		}
	}

	readCtx, cancelRead := context.WithTimeout(ctx, timeout)
	defer cancelRead()
	index := demoIndex(inputs)
	results, err := demoRead(readCtx, adm, addr, []string{cfg.OutputTopic, cfg.ErrorTopic}, index)
	var report *verify.Report
	if err == nil {
		report, err = verify.Run(readCtx, []kgo.Opt{kgo.SeedBrokers(addr)}, verify.Config{Processor: cfg})
	}
	if err != nil {
		if ctx.Err() != nil {
			return fail(1, "interrupted")
		}
		return fail(1, "reading the results: %v", err)
	}
	txns := demoCounter(p.Gatherer(), "event_processor_transactions_total", "result")
	outputs, errs := demoListing(index, results, cfg.OutputTopic)
	demoPrint(stdout, inputs, outputs, errs, report, cfg.OutputTopic, cfg.ErrorTopic)
	fmt.Fprintf(stdout, `
summary
  inputs        %d (%d valid, %d invalid)
  outputs       %d on %s
  errors        %d on %s: %s
  verified      %s (%s)
  transactions  %d committed, %d aborted, %d failed
  throughput    %s
`,
		report.Inputs, report.Valid, report.Inputs-report.Valid,
		report.Outputs, cfg.OutputTopic,
		report.Errors, cfg.ErrorTopic, report.ErrorTypeSummary(),
		report.Verdict(), report.CountSummary(),
		int(txns["committed"]), int(txns["aborted"]), int(txns["failed"]),
		demoThroughput(total, started, firstPoll, done))
	if !report.OK() || report.Inputs != int64(total) {
		return fail(1, "the results do not match the %d inputs one for one (see the summary)", total)
	}

	if !*serve {
		return 0
	}
	fmt.Fprintf(stdout, `
serving       the embedded broker and the processor keep running; Ctrl-C stops them.
  bootstrap   %[1]s   (in-process stand-in for Kafka; its data is gone on exit)
  try, from another terminal in the repository:
    go run ./cmd/ktool --brokers %[1]s produce %[2]s '{"id":"try-1","type":"user-action","timestamp":1733328000000,"data":{"action":"click","userId":42}}'
    go run ./cmd/ktool --brokers %[1]s produce %[2]s 'this is not valid JSON'
    go run ./cmd/ktool --brokers %[1]s consume %[3]s --offset beginning
    go run ./cmd/ktool --brokers %[1]s consume %[4]s --offset beginning
    go run ./cmd/ktool --brokers %[1]s lag %[5]s
`, addr, cfg.InputTopic, cfg.OutputTopic, cfg.ErrorTopic, cfg.Group)
	if serving != nil {
		serving(addr)
	}
	select {
	case <-ctx.Done():
	case err := <-runErr:
		stopped = true
		return fail(1, "the processor stopped: %v", err)
	}
	fmt.Fprintln(stdout, "\nstopping: finishing the open transaction and leaving the group")
	if err := stop(); err != nil {
		return fail(1, "the processor stopped with an error: %v", err)
	}
	fmt.Fprintln(stdout, "stopped")
	return 0
}

// demoHTTPHost makes ":8080" into "localhost:8080" for a printed URL.
func demoHTTPHost(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "localhost" + addr
	}
	return addr
}

// demoSamples turns a samples file into input records: one per element of a
// JSON array (with insignificant whitespace removed), or else one per
// non-blank line, each of which must be JSON. The events are keyed by id,
// as a typical producer would key them. Which of them are valid events is
// for the verifier to say, by the processor's own contract.
func demoSamples(b []byte) ([]demoInput, error) {
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	var values [][]byte
	if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 && trimmed[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return nil, fmt.Errorf("not a valid JSON array: %w", err)
		}
		for _, e := range elems {
			var buf bytes.Buffer
			json.Compact(&buf, e) // cannot fail on decoded JSON
			values = append(values, buf.Bytes())
		}
	} else {
		for i, line := range bytes.Split(b, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			if !json.Valid(line) {
				return nil, fmt.Errorf("line %d is not JSON: a file is one JSON array, or one JSON value per line", i+1)
			}
			values = append(values, line)
		}
	}
	if len(values) == 0 {
		return nil, errors.New("no events in the file (it is empty, blank, or an empty JSON array)")
	}
	inputs := make([]demoInput, len(values))
	for i, v := range values {
		var ev struct {
			ID any `json:"id"`
		}
		json.Unmarshal(v, &ev) // a value that is not an event simply has no key
		inputs[i] = demoInput{value: v}
		if id, ok := ev.ID.(string); ok && id != "" {
			inputs[i].key = []byte(id)
		}
	}
	return inputs, nil
}

// demoInvalid returns messages the processor turns into error events, a few
// of each kind (see docs/schema.md). maxRecordBytes is the processor's
// record limit: one valid event is made just too large for it.
func demoInvalid(maxRecordBytes int) []demoInput {
	big := `{"id":"evt-big","type":"upload","timestamp":1733328000000,"data":{"blob":"` +
		strings.Repeat("x", maxRecordBytes-2048) + `"}}`
	msgs := []struct{ label, value string }{
		{"not JSON", "this is not valid JSON"},
		{"cut-off JSON", `{"id":"evt-bad-1","type":"click","timestamp":1733328000000`},
		{"empty (tombstone)", ""},
		{"not UTF-8", "\xff\xfe\x00h\x00i"},
		{"not an object", `[1,2,3]`},
		{"no id", `{"type":"click","timestamp":1733328000000,"data":{"userId":42}}`},
		{"string timestamp", `{"id":"evt-bad-2","type":"click","timestamp":"2024-12-04T16:00:00Z"}`},
		{"data is an array", `{"id":"evt-bad-3","type":"click","timestamp":1733328000000,"data":[1,2]}`},
		{"repeated key in data", `{"id":"evt-bad-4","type":"click","timestamp":1733328000000,"data":{"userId":1,"userId":2}}`},
		{"output too large", big},
	}
	out := make([]demoInput, len(msgs))
	for i, m := range msgs {
		out[i] = demoInput{value: []byte(m.value), label: m.label}
	}
	return out
}

// demoGenerated returns the i-th generated event, valid, of the sample
// types, keyed by id.
func demoGenerated(i int) demoInput {
	types := []string{"user-action", "page-view", "add-to-cart", "purchase", "search"}
	actions := []string{"click", "scroll", "hover", "submit"}
	id := fmt.Sprintf("gen-%07d", i+1)
	v := make([]byte, 0, 200)
	v = fmt.Appendf(v, `{"id":%q,"type":%q,"timestamp":%d,"data":{"userId":%d,"action":%q,"amount":%d.%02d,"session":{"id":"s-%d","mobile":%t}}}`,
		id, types[i%len(types)], 1733328000000+int64(i)*10, 1000+i%5000, actions[i%len(actions)],
		i%200, i%100, i/20, i%3 == 0)
	return demoInput{key: []byte(id), value: v}
}

// demoProduce writes inputs to topic, in order, recording where each went,
// then streamed generated events (demoGenerated(0) on), and returns the end
// offset of every partition written.
func demoProduce(ctx context.Context, cl *kgo.Client, topic string, inputs []demoInput, streamed int) (map[int32]int64, error) {
	errs := make(chan error, 1)
	var mu sync.Mutex
	end := make(map[int32]int64)
	done := func(r *kgo.Record, err error) bool {
		if err != nil {
			select {
			case errs <- err:
			default:
			}
			return false
		}
		mu.Lock()
		end[r.Partition] = max(end[r.Partition], r.Offset+1)
		mu.Unlock()
		return true
	}
	for i := range inputs {
		in := &inputs[i]
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: in.key, Value: in.value}, func(r *kgo.Record, err error) {
			if done(r, err) {
				in.partition, in.offset = r.Partition, r.Offset
			}
		})
	}
	for i := range streamed {
		g := demoGenerated(i)
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: g.key, Value: g.value}, func(r *kgo.Record, err error) { done(r, err) })
	}
	if err := cl.Flush(ctx); err != nil {
		return nil, err
	}
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return end, nil
}

// errProcessorStopped is returned by demoAwait when the processor's Run
// returned before it finished.
var errProcessorStopped = errors.New("the processor stopped before it finished the input")

// demoAwait waits until group's committed offsets reach end, the input's end
// offsets: every input's result is then committed. It returns when the
// processor first polled input and when it was done. If the processor
// stops first, the error wraps errProcessorStopped (runErr has then been
// read).
func demoAwait(ctx context.Context, adm *kadm.Client, g prometheus.Gatherer, group, topic string, end verify.Offsets,
	runErr <-chan error, timeout time.Duration,
) (firstPoll, done time.Time, err error) {
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case err := <-runErr:
			if err == nil {
				err = errors.New("no error")
			}
			cancel(fmt.Errorf("%w: %v", errProcessorStopped, err))
		case <-wctx.Done():
		}
	}()
	tctx, tcancel := context.WithTimeoutCause(wctx, timeout, fmt.Errorf("the input was not processed within %s (see the processor's log above)", timeout))
	defer tcancel()
	err = verify.AwaitCommitted(tctx, adm, group, topic, end, func(int64) {
		if firstPoll.IsZero() && demoCounter(g, "event_processor_records_consumed_total", "")[""] > 0 {
			firstPoll = time.Now()
		}
	})
	done = time.Now()
	cancel(nil)
	<-watched
	if err != nil {
		if cause := context.Cause(wctx); errors.Is(cause, errProcessorStopped) {
			return firstPoll, done, cause
		}
		return firstPoll, done, err
	}
	if firstPoll.IsZero() {
		firstPoll = done
	}
	return firstPoll, done, nil
}

// demoRead reads topics to their end offsets under read_committed and
// returns the records that are results of the listed inputs.
func demoRead(ctx context.Context, adm *kadm.Client, addr string, topics []string, index map[demoPos]int) ([]*kgo.Record, error) {
	var out []*kgo.Record
	for _, topic := range topics {
		ends, err := verify.EndOffsets(ctx, adm, topic)
		if err != nil {
			return nil, err
		}
		err = verify.Read(ctx, []kgo.Opt{kgo.SeedBrokers(addr)}, topic, nil, ends, kgo.ReadCommitted(), func(r *kgo.Record) {
			if src, err := processor.Provenance(r); err == nil {
				if _, ok := index[demoPos{src.Partition, src.Offset}]; ok {
					out = append(out, r)
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// demoCounter sums a counter of g by the values of label ("" for none).
func demoCounter(g prometheus.Gatherer, name, label string) map[string]float64 {
	out := make(map[string]float64)
	mfs, err := g.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label {
					key = lp.GetValue()
				}
			}
			out[key] += m.GetCounter().GetValue()
		}
	}
	return out
}

// demoResult is one record read back, tied to its input by the provenance
// headers.
type demoResult struct {
	input int // index into the inputs; -1 if unknown
	rec   *kgo.Record
}

// demoPos is where an input was written.
type demoPos struct {
	p int32
	o int64
}

// demoIndex maps where each listed input was written to its index.
func demoIndex(inputs []demoInput) map[demoPos]int {
	index := make(map[demoPos]int, len(inputs))
	for i, in := range inputs {
		index[demoPos{in.partition, in.offset}] = i
	}
	return index
}

// demoListing sorts the results by topic and input, for the listing.
func demoListing(index map[demoPos]int, results []*kgo.Record, outputTopic string) (outputs, errs []demoResult) {
	for _, r := range results {
		res := demoResult{input: -1, rec: r}
		if src, err := processor.Provenance(r); err == nil {
			if i, ok := index[demoPos{src.Partition, src.Offset}]; ok {
				res.input = i
			}
		}
		if r.Topic == outputTopic {
			outputs = append(outputs, res)
		} else {
			errs = append(errs, res)
		}
	}
	byInput := func(a, b demoResult) int { return a.input - b.input }
	slices.SortStableFunc(outputs, byInput)
	slices.SortStableFunc(errs, byInput)
	return outputs, errs
}

func demoThroughput(inputs int, started, firstPoll, done time.Time) string {
	d := done.Sub(firstPoll)
	if d <= 0 {
		d = time.Millisecond
	}
	if inputs < 1000 {
		// One transaction's collection interval dominates: not a rate.
		return fmt.Sprintf("%d inputs in %s (too few to measure; try --events 100000)", inputs, d.Round(time.Millisecond))
	}
	return fmt.Sprintf("%d inputs in %s = %.0f events/s on the in-process broker (first poll to last commit; start-up and joining the group took %s before)",
		inputs, d.Round(time.Millisecond), float64(inputs)/d.Seconds(), firstPoll.Sub(started).Round(time.Millisecond))
}

// demoPrint lists the results: all of them when there are few, else the
// first few of each topic. Long values are cut for the screen.
func demoPrint(w io.Writer, inputs []demoInput, outputs, errs []demoResult, report *verify.Report, outputTopic, errorTopic string) {
	all := report.Outputs+report.Errors <= demoPrintAll
	section := func(topic string, n int64, rs []demoResult, labels bool) {
		shown := rs
		if !all && len(shown) > demoPrintFew {
			shown = shown[:demoPrintFew]
		}
		fmt.Fprintf(w, "\n%s (read_committed): %d events", topic, n)
		if int64(len(shown)) < n {
			fmt.Fprintf(w, ", the first %d:", len(shown))
		}
		fmt.Fprintln(w)
		for _, r := range shown {
			n := "?"
			label := ""
			if r.input >= 0 {
				n = strconv.Itoa(r.input + 1)
				label = inputs[r.input].label
			}
			if labels {
				fmt.Fprintf(w, "  #%-4s %-21s %s\n", n, label, demoCut(r.rec.Value))
			} else {
				fmt.Fprintf(w, "  #%-4s %s\n", n, demoCut(r.rec.Value))
			}
		}
	}
	section(outputTopic, report.Outputs, outputs, false)
	section(errorTopic, report.Errors, errs, true)
}

// demoCut shortens a value longer than fits a few screen lines.
func demoCut(v []byte) string {
	const limit, cut0 = 600, 200
	if len(v) <= limit {
		return string(v)
	}
	cut := cut0
	for cut > 0 && v[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes in all)", v[:cut], len(v))
}
