package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/processor"
	"github.com/event-processor/event-processor/verify"
	"github.com/event-processor/event-processor/verify/verifytest"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fixture is a fake cluster with one pipeline's topics and inputs.
type fixture struct {
	opts   []kgo.Opt
	cfg    processor.Config
	inputs []*kgo.Record
	router *processor.Router
}

// newFixture produces n mixed inputs (a tenth invalid) to a fresh fake
// cluster's input topic of 3 partitions.
func newFixture(t *testing.T, n int) *fixture {
	t.Helper()
	cfg := processor.DefaultConfig()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, cfg.InputTopic, cfg.OutputTopic, cfg.ErrorTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	f := &fixture{opts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, cfg: cfg}
	cl, err := kgo.NewClient(append(f.opts, kgo.DefaultProduceTopic(cfg.InputTopic))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i, v := range examples.Mixed(n, 1) {
		r := &kgo.Record{Value: v}
		if i%3 == 0 {
			r.Key = []byte(fmt.Sprintf("k-%d", i%17))
		}
		if i%5 == 0 {
			r.Headers = []kgo.RecordHeader{{Key: "trace-id", Value: []byte(fmt.Sprint(i))}}
		}
		f.inputs = append(f.inputs, r)
	}
	if err := cl.ProduceSync(t.Context(), f.inputs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	processedAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if f.router, err = processor.NewRouter(cfg, cfg.MaxRecordBytes, func() time.Time { return processedAt }); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) write(t *testing.T, results []*kgo.Record, commit bool) {
	t.Helper()
	if err := verifytest.Produce(t.Context(), f.opts, "results", results, commit); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) verify(t *testing.T, cfg verify.Config) *verify.Report {
	t.Helper()
	cfg.Processor = f.cfg
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	r, err := verify.Run(ctx, f.opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func counts(r *verify.Report) map[verify.Kind]int64 {
	m := make(map[verify.Kind]int64)
	for _, k := range verify.Kinds() {
		if n := r.Count(k); n > 0 {
			m[k] = n
		}
	}
	return m
}

func TestCleanRun(t *testing.T) {
	const n = 2000
	f := newFixture(t, n)
	f.write(t, verifytest.Results(f.router, f.inputs), true)
	r := f.verify(t, verify.Config{})
	if !r.OK() || r.Inputs != n || r.Outputs+r.Errors != n || r.Errors != n/10 || r.Valid != n-n/10 {
		t.Fatalf("clean run: ok %v, %d inputs (%d valid), %d outputs, %d errors, violations %v; want %d inputs, %d errors",
			r.OK(), r.Inputs, r.Valid, r.Outputs, r.Errors, counts(r), n, n/10)
	}
	var text bytes.Buffer
	r.WriteText(&text)
	if !strings.Contains(text.String(), "exactly once: each of the 2000 inputs has exactly one result") {
		t.Errorf("text report:\n%s", text.String())
	}
}

// Each kind of violation, injected once, is found once and as nothing else.
func TestEachViolationFound(t *testing.T) {
	for _, k := range verify.Kinds() {
		t.Run(k.String(), func(t *testing.T) {
			f := newFixture(t, 300)
			f.write(t, verifytest.Inject(k, verifytest.Results(f.router, f.inputs), f.cfg.ErrorTopic), true)
			r := f.verify(t, verify.Config{})
			if got := counts(r); len(got) != 1 || got[k] != 1 {
				t.Fatalf("violations %v, want exactly one %s", got, k)
			}
			if ex := r.Examples[k]; len(ex) != 1 || ex[0].Kind != k || ex[0].Detail == "" {
				t.Errorf("examples of %s: %+v", k, ex)
			}
			if k != verify.Missing && r.Examples[k][0].Result == nil {
				t.Errorf("%s example has no result coordinates", k)
			}
			var js bytes.Buffer
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			var parsed struct {
				OK         bool             `json:"ok"`
				Violations map[string]int64 `json:"violations"`
			}
			if err := json.Unmarshal(js.Bytes(), &parsed); err != nil || parsed.OK || parsed.Violations[k.String()] != 1 {
				t.Errorf("JSON report (%v): %s", err, js.String())
			}
		})
	}
}

// Records of an aborted transaction are invisible under read_committed:
// a whole second copy of the results, aborted, is no duplicate.
func TestAbortedResultsAreNotDuplicates(t *testing.T) {
	f := newFixture(t, 500)
	results := verifytest.Results(f.router, f.inputs)
	f.write(t, results, false)
	f.write(t, results, true)
	f.write(t, results[:100], false)
	if r := f.verify(t, verify.Config{}); !r.OK() || r.Outputs+r.Errors != 500 {
		t.Fatalf("violations %v, %d results; want none and 500", counts(r), r.Outputs+r.Errors)
	}
}

// A result without provenance, or naming another topic, is an orphan.
func TestOrphanReasons(t *testing.T) {
	f := newFixture(t, 50)
	results := verifytest.Results(f.router, f.inputs)
	bare := &kgo.Record{Topic: f.cfg.OutputTopic, Value: []byte("x")}
	other := &kgo.Record{Topic: f.cfg.OutputTopic, Value: []byte("y"), Headers: []kgo.RecordHeader{
		{Key: processor.HeaderSourceTopic, Value: []byte("elsewhere")},
		{Key: processor.HeaderSourcePartition, Value: []byte("0")},
		{Key: processor.HeaderSourceOffset, Value: []byte("0")},
	}}
	f.write(t, append(results, bare, other), true)
	r := f.verify(t, verify.Config{})
	if got := counts(r); len(got) != 1 || got[verify.Orphaned] != 2 {
		t.Fatalf("violations %v, want 2 orphans", got)
	}
	details := r.Examples[verify.Orphaned][0].Detail + " | " + r.Examples[verify.Orphaned][1].Detail
	for _, want := range []string{"no provenance headers", `names topic "elsewhere"`} {
		if !strings.Contains(details, want) {
			t.Errorf("orphan details %q lack %q", details, want)
		}
	}
}

// An offset range checks only its inputs; results of the others are
// counted as outside, and a missing result outside the range is not
// reported.
func TestRange(t *testing.T) {
	f := newFixture(t, 300)
	results := verifytest.Results(f.router, f.inputs)
	drop := -1
	for i, in := range f.inputs {
		if in.Offset == 10 {
			drop = i
			break
		}
	}
	f.write(t, append(results[:drop:drop], results[drop+1:]...), true)
	r := f.verify(t, verify.Config{Start: &verify.Position{Offset: 40}})
	if !r.OK() || r.Outside == 0 || r.Inputs >= 300 || r.Start[f.inputs[drop].Partition] != 40 {
		t.Fatalf("range from offset 40: violations %v, %d inputs, %d outside, start %v", counts(r), r.Inputs, r.Outside, r.Start)
	}
	r = f.verify(t, verify.Config{})
	if got := counts(r); len(got) != 1 || got[verify.Missing] != 1 || r.Examples[verify.Missing][0].Input.Offset != 10 {
		t.Fatalf("whole topic: violations %v, want the one missing at offset 10", got)
	}
	r = f.verify(t, verify.Config{End: &verify.Position{Offset: 10}})
	if !r.OK() || r.Outside == 0 {
		t.Fatalf("range up to offset 10: violations %v, %d outside", counts(r), r.Outside)
	}
}
