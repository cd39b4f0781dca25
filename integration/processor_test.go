package integration

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/processor"
	"github.com/event-processor/event-processor/schema"
	"github.com/twmb/franz-go/pkg/kadm"
)

// TestProcessorMixedEvents: 10,000 events, a tenth of them invalid in every
// way, on three partitions: each input has exactly one result, valid ones on
// the output topic and invalid ones on the error topic, each equal to what
// schema makes of it.
func TestProcessorMixedEvents(t *testing.T) {
	p := newPipeline(t, broker, 3, nil)
	inputs := p.produce(t, examples.Mixed(10000, 1))
	p.start(t, p.config("a"))
	outputs, errors := p.checkExactlyOnce(t, inputs, 2*time.Minute)
	if outputs != 9000 || errors != 1000 {
		t.Errorf("got %d outputs and %d errors, want 9000 and 1000", outputs, errors)
	}
}

// TestProcessorGracefulRestart stops the processor while input is still
// arriving and some of it is processed, and starts it again with the same
// transactional id: nothing is lost or duplicated.
func TestProcessorGracefulRestart(t *testing.T) {
	p := newPipeline(t, broker, 3, nil)
	cfg := p.config("a")
	cfg.MaxRecords = 100
	events := examples.Mixed(4000, 2)
	inputs := p.produce(t, events[:500])
	feed := p.feed(t, events[500:], 100, 50*time.Millisecond)
	first := p.start(t, cfg)
	p.awaitCommitted(t, 1500, time.Minute)
	first.stop(t)
	p.start(t, cfg)
	p.awaitCommitted(t, p.committed(t)+500, time.Minute) // the new instance is processing
	maps.Copy(inputs, feed.stop(t))
	p.checkExactlyOnce(t, inputs, 2*time.Minute)
}

// TestProcessorGroupChanges runs two instances, adds a third mid-stream and
// stops one: no input is lost or duplicated, and a read_committed reader
// watching during the run never sees a record twice (which it would if an
// aborted transaction's records were visible).
func TestProcessorGroupChanges(t *testing.T) {
	p := newPipeline(t, broker, 6, nil)
	live := p.startLiveReader(t, p.output, p.errored)
	events := examples.Mixed(15000, 3)
	inputs := p.produce(t, events[:5000])
	a := p.start(t, p.config("a"))
	p.start(t, p.config("b"))
	time.Sleep(time.Second)
	for pos, v := range p.produce(t, events[5000:10000]) {
		inputs[pos] = v
	}
	p.start(t, p.config("c"))
	time.Sleep(time.Second)
	a.stop(t)
	for pos, v := range p.produce(t, events[10000:]) {
		inputs[pos] = v
	}
	p.checkExactlyOnce(t, inputs, 3*time.Minute)

	checkLive(t, live, len(inputs))
}

// TestProcessorNewPartitions: partitions added to the input topic while
// the processor runs are assigned and processed within seconds (kgo's
// default metadata refresh would take 5 minutes), and ktool lag can tell
// the instance by its client id, the transactional id.
func TestProcessorNewPartitions(t *testing.T) {
	p := newPipeline(t, broker, 1, nil)
	adm := admin(t, broker)
	inputs := p.produce(t, examples.Mixed(100, 13))
	cfg := p.config("a")
	p.start(t, cfg)
	p.checkExactlyOnce(t, inputs, time.Minute)
	if _, err := adm.CreatePartitions(t.Context(), 2, p.input); err != nil { // 1 -> 3
		t.Fatal(err)
	}
	added := time.Now()
	maps.Copy(inputs, p.produce(t, examples.Mixed(300, 14))) // round robin: two thirds on the new partitions
	p.checkExactlyOnce(t, inputs, time.Minute)
	t.Logf("inputs on partitions added while running processed %s after they were added", time.Since(added).Round(100*time.Millisecond))
	described, err := adm.DescribeGroups(t.Context(), p.group)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range described[p.group].Members {
		if m.ClientID != cfg.TransactionalID {
			t.Errorf("group member's client id is %q, want the transactional id %q", m.ClientID, cfg.TransactionalID)
		}
	}
}

// TestProcessorTopicsRecreated: the three topics deleted while the processor
// runs, then created again: readiness goes off while they are missing and
// comes back, and the input written to the new topics is processed exactly
// once, with no restart. (The clients keep the old topic ids; without a new
// session every produce and fetch failed for good.)
func TestProcessorTopicsRecreated(t *testing.T) {
	p := newPipeline(t, broker, 3, nil)
	cfg := p.config("a")
	cfg.HTTPAddr = freeAddr(t)
	ready := "http://" + cfg.HTTPAddr + "/readyz"
	p.start(t, cfg)
	p.checkExactlyOnce(t, p.produce(t, examples.Mixed(300, 15)), time.Minute)
	awaitStatus(t, ready, http.StatusOK, time.Minute)

	adm := admin(t, broker)
	if _, err := adm.DeleteTopics(t.Context(), p.input, p.output, p.errored); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, ready, http.StatusServiceUnavailable, 30*time.Second)
	if code, body := get(t, ready); !strings.Contains(body, "does not exist") {
		t.Errorf("/readyz while the topics are missing = %d %q, want it to say which topic does not exist", code, body)
	}
	deadline := time.Now().Add(time.Minute)
	for _, topic := range []string{p.input, p.output, p.errored} {
		for { // deletion completes in the background
			err := CreateTopic(t.Context(), adm, topic, 3, nil)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("re-creating %s: %v", topic, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	inputs := p.produce(t, examples.Mixed(300, 16))
	p.checkExactlyOnce(t, inputs, 2*time.Minute)
	awaitStatus(t, ready, http.StatusOK, 30*time.Second)
}

// TestProcessorRecordLimitLowered: the output topic's max.message.bytes
// lowered while the processor runs: an output over the new limit becomes an
// OUTPUT_TOO_LARGE error event, as it would have at start-up, instead of
// failing every transaction it is in.
func TestProcessorRecordLimitLowered(t *testing.T) {
	p := newPipeline(t, broker, 1, nil)
	p.start(t, p.config("a"))
	inputs := p.produce(t, examples.Mixed(50, 17))
	p.checkExactlyOnce(t, inputs, time.Minute)

	adm := admin(t, broker)
	lowered := "65536"
	resp, err := adm.AlterTopicConfigs(t.Context(), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &lowered}}, p.output)
	if err == nil {
		err = resp[0].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	// The broker enforces the new limit a moment after the change; the
	// processor notices it within its topic check interval (5 s), so an
	// oversized result produced meanwhile fails first.
	time.Sleep(1500 * time.Millisecond)
	// Random, so that batch compression cannot bring it under the limit.
	blob := make([]byte, 150*1024)
	rand.Read(blob)
	big := `{"id":"big","type":"t","timestamp":1733328000000,"data":{"blob":"` + base64.StdEncoding.EncodeToString(blob) + `"}}`
	maps.Copy(inputs, p.produce(t, append(examples.Mixed(20, 18), []byte(big))))
	_, errors := p.checkExactlyOnce(t, inputs, 2*time.Minute) // verify reads the lowered limit too
	found := false
	for _, r := range p.readResults(t) {
		if string(r.rec.Key) == "big" {
			found = r.topic == p.errored && strings.Contains(string(r.rec.Value), `"errorType":"`+schema.OutputTooLarge+`"`)
		}
	}
	if !found || errors == 0 {
		t.Errorf("the oversized event is not an %s error event on %s", schema.OutputTooLarge, p.errored)
	}
}

// TestProcessorCompactedTopics: output and error topics with
// cleanup.policy=compact refuse records without a key; every result has
// one (an unparseable input without a key is keyed by its coordinates), so
// nothing stalls and every input has its one result.
func TestProcessorCompactedTopics(t *testing.T) {
	p := definePipeline(t, broker)
	compact := "compact"
	adm := admin(t, broker)
	for topic, cfg := range map[string]map[string]*string{
		p.input: nil, p.output: {"cleanup.policy": &compact}, p.errored: {"cleanup.policy": &compact},
	} {
		if err := CreateTopic(t.Context(), adm, topic, 2, cfg); err != nil {
			t.Fatal(err)
		}
	}
	inputs := p.produce(t, examples.Mixed(2000, 9)) // keyless; a tenth invalid, some with no id
	p.start(t, p.config("a"))
	if outputs, errors := p.checkExactlyOnce(t, inputs, time.Minute); outputs != 1800 || errors != 200 {
		t.Errorf("got %d outputs and %d errors, want 1800 and 200", outputs, errors)
	}
}

// TestProcessorOversizedOutput: an event whose output exceeds the output
// topic's max.message.bytes becomes an error event that fits, and the
// records around it are processed: no stall, nothing partial.
func TestProcessorOversizedOutput(t *testing.T) {
	const topicMax = 64 * 1024
	maxBytes := "65536"
	p := newPipeline(t, broker, 1, map[string]*string{"max.message.bytes": &maxBytes})
	// The error topic keeps the broker default; the processor's limit is
	// the smaller of the two.
	big := `{"id":"big","type":"t","timestamp":1733328000000,"data":{"blob":"` + strings.Repeat("x", 200*1024) + `"}}`
	var events [][]byte
	for i := range 50 {
		if i == 25 {
			events = append(events, []byte(big))
			continue
		}
		events = append(events, examples.Mixed(1, uint64(i))[0])
	}
	inputs := p.produce(t, events)
	p.start(t, p.config("a"))
	p.checkExactlyOnce(t, inputs, time.Minute)
	results := p.readResults(t)
	found := false
	for _, r := range results {
		if string(r.rec.Key) == "big" {
			found = true
			if r.topic != p.errored || !strings.Contains(string(r.rec.Value), `"errorType":"`+schema.OutputTooLarge+`"`) {
				t.Errorf("oversized event: got %s %.200s, want an %s error event", r.topic, r.rec.Value, schema.OutputTooLarge)
			}
			if len(r.rec.Value) > topicMax {
				t.Errorf("oversized event's error event is %d bytes, over the %d limit", len(r.rec.Value), topicMax)
			}
		}
	}
	if !found {
		t.Error("no result for the oversized event")
	}
}

// TestProcessorStartsBeforeTopics: started before its topics exist, the
// processor stays unready, then becomes ready once they are created and
// processes everything.
func TestProcessorStartsBeforeTopics(t *testing.T) {
	p := definePipeline(t, broker)
	url := p.startWaiting(t, "before topics exist")
	p.createTopics(t, 2, nil)
	inputs := p.produce(t, examples.Mixed(500, 4))
	awaitStatus(t, url+"/readyz", http.StatusOK, time.Minute)
	p.checkExactlyOnce(t, inputs, time.Minute)

	code, body := get(t, url+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, `event_processor_records_total{outcome="output"} 450`) ||
		!strings.Contains(body, `event_processor_records_total{outcome="error"} 50`) {
		t.Errorf("/metrics = %d, want records_total 450 outputs and 50 errors; got:\n%s", code, grepLines(body, "event_processor_records_total"))
	}
}

// TestProcessorBrokerDown: started while the broker is down, the processor
// waits, becomes ready once the broker is up, and processes everything;
// then the broker restarts mid-stream and nothing is lost or duplicated.
func TestProcessorBrokerDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	b, err := StartBroker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Terminate(context.Background()) })
	p := newPipeline(t, b, 3, nil)
	events := examples.Mixed(6000, 5)
	inputs := p.produce(t, events[:2000])
	if err := b.Stop(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	url := p.startWaiting(t, "with the broker down")
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, url+"/readyz", http.StatusOK, 2*time.Minute)
	for pos, v := range p.produce(t, events[2000:4000]) {
		inputs[pos] = v
	}

	// A broker restart while records flow.
	time.Sleep(500 * time.Millisecond)
	if err := b.Stop(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for pos, v := range p.produce(t, events[4000:]) {
		inputs[pos] = v
	}
	p.checkExactlyOnce(t, inputs, 3*time.Minute)
}

// startWaiting starts a processor serving HTTP while it cannot work yet
// (when, for messages), checks that it is alive but not ready after a few
// seconds, and returns its base URL.
func (p *pipeline) startWaiting(t *testing.T, when string) string {
	t.Helper()
	cfg := p.config("a")
	cfg.HTTPAddr = freeAddr(t)
	p.start(t, cfg)
	url := "http://" + cfg.HTTPAddr
	time.Sleep(3 * time.Second)
	if code, body := get(t, url+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz %s = %d %q, want 503", when, code, body)
	}
	if code, _ := get(t, url+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz %s = %d, want 200 (liveness must not depend on the broker)", when, code)
	}
	return url
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func awaitStatus(t *testing.T, url string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, body := get(t, url)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d %q after %s, want %d", url, code, body, timeout, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestProcessorSaysWhatIsMisconfigured: on a single broker left with the
// default replication factor of 3 for its internal topics, the group and
// transaction coordinators can never be placed. The processor must say so,
// with what to change, within seconds (the Kafka client alone stays silent
// for its 40 s of retries), and stay unready.
func TestProcessorSaysWhatIsMisconfigured(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	b, err := StartBrokerWith(ctx, map[string]string{
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Terminate(context.WithoutCancel(ctx)) })
	p := newPipeline(t, b, 1, nil)
	cfg := p.config("a")
	cfg.HTTPAddr = freeAddr(t)
	var logs lockedBuffer
	cfg.LogFormat, cfg.LogLevel = "text", "warn"
	cfg.ShutdownTimeout = 2 * time.Second       // nothing to finish on a cluster that never served it
	log, err := processor.NewLogger(cfg, &logs) // as the binary logs, hints included
	if err != nil {
		t.Fatal(err)
	}
	proc, err := processor.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- proc.Run(pctx) }()
	defer func() { stop(); <-done }()

	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), "offsets.topic.replication.factor") {
		if time.Now().After(deadline) {
			t.Fatalf("no log line said what to change within 15 s; the log:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, body := get(t, "http://"+cfg.HTTPAddr+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d %q on a cluster that cannot serve the group, want 503", code, body)
	}
}
