package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func rated(c string, rate, round int, p99 float64, sustained bool) Run {
	r := Run{Contender: c, Kind: KindRate, Rate: rate, Round: round, Events: int64(rate) * 10, EventsPerS: float64(rate),
		Sustained: sustained, CPUSPerMillion: 10, PeakRSSMB: 30, Verified: "exactly once"}
	if sustained {
		r.Latency = &Latency{P50: p99 / 4, P95: p99 / 2, P99: p99, P999: p99 * 2, Max: p99 * 3}
	}
	return r
}

func TestMedians(t *testing.T) {
	runs := []Run{
		rated(KafkaStreams, 1000, 1, 300, true),
		rated(EventProcessor, 1000, 1, 40, true),
		rated(EventProcessor, 1000, 2, 60, true),
		rated(EventProcessor, 1000, 3, 50, true),
		rated(KafkaStreams, 20000, 1, 0, false),
		rated(KafkaStreams, 20000, 2, 900, true),
		rated(KafkaStreams, 20000, 3, 0, false),
		{Contender: EventProcessor, Kind: KindBacklog, Events: 1000, EventsPerS: 300, Sustained: true, Verified: "exactly once"},
		{Contender: EventProcessor, Kind: KindBacklog, Events: 1000, EventsPerS: 100, Sustained: true, Verified: "FAILED: 1 violations"},
		{Contender: EventProcessor, Kind: KindScale, Events: 5000, EventsPerS: 200, Sustained: true, Verified: "exactly once"},
	}
	rows := Medians(runs)
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5: %+v", len(rows), rows)
	}
	ep := rows[0]
	if ep.Contender != EventProcessor || ep.Kind != KindRate || ep.Runs != 3 || !ep.Sustained || *ep.P99 != 50 || *ep.P50 != 12.5 {
		t.Errorf("event-processor at 1000/s: %+v", ep)
	}
	if got := rows[1]; got.Kind != KindBacklog || got.EventsPerS != 200 || got.Verified != "1× exactly once; 1× FAILED: 1 violations" {
		t.Errorf("backlog row: %+v", got)
	}
	if got := rows[2]; got.Kind != KindScale || got.Events != 5000 {
		t.Errorf("scale row: %+v", got)
	}
	// One run of three kept up: the row fell behind, and has no latency.
	if ks := rows[4]; ks.Rate != 20000 || ks.Sustained || ks.SustainedRuns != 1 || ks.P99 != nil {
		t.Errorf("kafka-streams at 20000/s: %+v", ks)
	}
}

func TestTargets(t *testing.T) {
	f := &File{Settings: Settings{Rates: []int{1000, 5000}, BacklogEvents: 1000}, Skipped: map[string]string{KafkaStreamsTuned: "no jar"}}
	f.Runs = []Run{
		rated(EventProcessor, 1000, 1, 40, true),
		rated(EventProcessor, 5000, 1, 120, true),
		rated(KafkaStreams, 1000, 1, 300, true),
		rated(KafkaStreams, 5000, 1, 0, false),
		{Contender: EventProcessor, Kind: KindBacklog, Events: 1000, EventsPerS: 95, Sustained: true},
		{Contender: AtLeastOnce, Kind: KindBacklog, Events: 1000, EventsPerS: 100, Sustained: true},
	}
	f.Results = Medians(f.Runs)
	got := make(map[string]string)
	for _, tg := range f.Targets() {
		got[tg.Name] = tg.Status() + ": " + tg.Measured
	}
	for name, want := range map[string]string{
		"throughput >= 0.90x at-least-once":                       "met: 0.95x",
		"throughput >= 3x kafka-streams-tuned":                    "not measured: kafka-streams-tuned not run: no jar",
		"p99 <= 100 ms at 1,000/s":                                "met: 40 ms",
		"p99 <= 100 ms at 5,000/s":                                "missed: 120 ms; missed by 20%",
		"p99 lower than kafka-streams at every rate both sustain": "met: 1,000/s: 40 vs 300 ms",
		"CPU per event <= 1/4 of kafka-streams-tuned":             "not measured",
	} {
		if !strings.HasPrefix(got[name], want) {
			t.Errorf("%s: %q, want it to start with %q", name, got[name], want)
		}
	}
}

func TestSplice(t *testing.T) {
	doc := "intro\n" + BeginMarker + "\nold\n" + EndMarker + "\nrest\n"
	got, err := Splice(doc, "new")
	if err != nil {
		t.Fatal(err)
	}
	if want := "intro\n" + BeginMarker + "\n\nnew\n" + EndMarker + "\nrest\n"; got != want {
		t.Errorf("Splice = %q, want %q", got, want)
	}
	if _, err := Splice("no markers", "new"); err == nil {
		t.Error("Splice without markers: no error")
	}
}

// The recorded run's tables in docs/benchmarks.md are the ones its results
// file makes: regenerate them with `go run ./bench/cmd/report` after a run.
func TestDocsMatchResults(t *testing.T) {
	f, err := Read(filepath.Join("..", "..", "results", "latest.json"))
	if os.IsNotExist(err) {
		t.Skip("no bench/results/latest.json")
	}
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "benchmarks.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Splice(string(doc), f.Markdown())
	if err != nil {
		t.Fatal(err)
	}
	if want != string(doc) {
		t.Error("docs/benchmarks.md does not show bench/results/latest.json's figures: run `go run ./bench/cmd/report`")
	}
}

func TestPlots(t *testing.T) {
	f := &File{Settings: Settings{Rates: []int{1000, 5000}, BacklogEvents: 1000}}
	f.Runs = []Run{
		rated(EventProcessor, 1000, 1, 40, true),
		rated(EventProcessor, 5000, 1, 60, true),
		rated(KafkaStreams, 1000, 1, 300, true),
		{Contender: EventProcessor, Kind: KindBacklog, Events: 1000, EventsPerS: 95, Sustained: true},
		{Contender: KafkaStreams, Kind: KindBacklog, Events: 1000, EventsPerS: 20, Sustained: true},
	}
	f.Results = Medians(f.Runs)
	dir := t.TempDir()
	if err := f.Plots(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"latency.png", "throughput.png"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() < 1000 {
			t.Errorf("%s: %v", name, err)
		}
	}
}
