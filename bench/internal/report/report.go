// Package report is the benchmark's results file (bench/results/latest.json)
// and what is made from it: the medians of a run's rounds, the issue's
// targets checked against them, the Markdown tables docs/benchmarks.md
// shows and the plots beside the file. The benchmark in package bench fills
// a File; bench/cmd/report renders an existing one again.
package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

// The contenders, by the names the results file uses.
const (
	EventProcessor    = "event-processor"
	AtLeastOnce       = "at-least-once"
	KafkaStreams      = "kafka-streams"
	KafkaStreamsTuned = "kafka-streams-tuned"
	RawCopy           = "raw-copy"
)

// Contenders lists every contender in the order tables and plots show them.
var Contenders = []string{EventProcessor, AtLeastOnce, KafkaStreams, KafkaStreamsTuned, RawCopy}

// The kinds of row.
const (
	KindRate    = "rate"    // a fixed offered rate: latency, and cost at that rate
	KindBacklog = "backlog" // every input produced before the contender starts: throughput
	KindScale   = "scale"   // a backlog of another size, for the processor only
)

// File is the results file: one full run.
type File struct {
	Machine  Machine           `json:"machine"`
	Versions map[string]string `json:"versions"`
	Command  string            `json:"command"`
	Started  string            `json:"started"` // RFC 3339
	// DurationS is the whole run's wall time, broker start to last verify.
	DurationS float64  `json:"duration_s"`
	Settings  Settings `json:"settings"`
	// Results are the medians over the rounds, one row per contender,
	// kind, rate and backlog size.
	Results []Row `json:"results"`
	// Runs are every measured run the medians come from, in the order run.
	Runs []Run `json:"runs"`
	// Skipped names the contenders left out of the run and why.
	Skipped map[string]string `json:"skipped,omitempty"`
}

// Machine is what the run ran on.
type Machine struct {
	CPUs     int     `json:"cpus"`
	CPUModel string  `json:"cpu_model"`
	MemoryGB float64 `json:"memory_gb"`
	Kernel   string  `json:"kernel"`
	// Load1 is the 1-minute load average when the first round began.
	Load1 float64 `json:"load1_at_start"`
	// Quiet says whether the machine was found quiet (load1 under the
	// benchmark's threshold) before the first round; QuietNote says what
	// was seen when it was not.
	Quiet     bool   `json:"quiet"`
	QuietNote string `json:"quiet_note,omitempty"`
}

// Settings are the run's parameters.
type Settings struct {
	Rounds        int     `json:"rounds"`
	Rates         []int   `json:"rates"`
	WarmupS       float64 `json:"warmup_s"`
	WindowS       float64 `json:"window_s"`
	BacklogEvents int     `json:"backlog_events"`
	ScaleEvents   []int   `json:"scale_events,omitempty"`
	Partitions    int     `json:"partitions"`
	InvalidShare  float64 `json:"invalid_share"`
	// BehindAfterS: a rated run falls behind when its results are more
	// than this many seconds of input behind the generator, or are not
	// all visible this long after the generator stopped.
	BehindAfterS float64 `json:"behind_after_s"`
}

// Latency is a distribution of produce-to-visible times, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
}

// Run is one measured run of one contender.
type Run struct {
	Contender string `json:"contender"`
	Kind      string `json:"kind"`
	Rate      int    `json:"rate"` // offered events/s; 0 for a backlog
	Round     int    `json:"round"`
	// Events is how many inputs the run measured: produced in the window
	// of a rated run, the whole backlog otherwise.
	Events int64 `json:"events"`
	// OfferedPerS is the rate the generator reached in the window.
	OfferedPerS float64 `json:"offered_per_s,omitempty"`
	// EventsPerS is the contender's rate: results that became visible
	// during the window per second (rated runs), or the backlog from its
	// first visible result to its last (backlog runs, start-up left out).
	EventsPerS float64 `json:"events_per_s"`
	// TotalS is a backlog run's time from starting the contender's
	// process to its last result visible, start-up included.
	TotalS float64 `json:"total_s,omitempty"`
	// Sustained says a rated run kept up: see Settings.BehindAfterS.
	Sustained bool   `json:"sustained"`
	Behind    string `json:"behind,omitempty"` // why not, when not
	// Latency is produce-to-visible for every result of the window's
	// inputs; nil for a run that fell behind or a backlog.
	Latency *Latency `json:"latency,omitempty"`
	// CPUS is the contender's process CPU time (user+system) from the
	// window's start (a backlog: its first visible result) to its last
	// result; CPUSPerMillion divides it by the events.
	CPUS           float64 `json:"cpu_s"`
	CPUSPerMillion float64 `json:"cpu_s_per_million"`
	// StartupCPUS is a backlog run's CPU time before its first visible
	// result (process start, group join, first transaction).
	StartupCPUS float64 `json:"startup_cpu_s,omitempty"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	Load1       float64 `json:"load1"`
	// Verified is the verifier's verdict on every result of the run.
	Verified string `json:"verified"`
}

// Row is the median of one contender's runs of one kind, rate and size.
type Row struct {
	Contender string `json:"contender"`
	Kind      string `json:"kind"`
	Rate      int    `json:"rate"`
	Events    int64  `json:"events"`
	// Runs is how many runs there were, Sustained how many of them kept
	// up. A row is sustained when most of its runs were; its latency and
	// cost medians are then over those runs only.
	Runs          int      `json:"runs"`
	SustainedRuns int      `json:"sustained_runs"`
	Sustained     bool     `json:"sustained"`
	EventsPerS    float64  `json:"events_per_s"`
	P50           *float64 `json:"p50_ms"`
	P95           *float64 `json:"p95_ms"`
	P99           *float64 `json:"p99_ms"`
	P999          *float64 `json:"p999_ms"`
	Max           *float64 `json:"max_ms"`
	// P99Runs are the p99s of the runs the median is over, in round order.
	P99Runs        []float64 `json:"p99_runs_ms,omitempty"`
	CPUSPerMillion float64   `json:"cpu_s_per_million"`
	PeakRSSMB      float64   `json:"peak_rss_mb"`
	Verified       string    `json:"verified"`
}

// Median is the median of xs (the mean of the middle two for an even
// count), 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Medians groups runs by contender, kind, rate and size and returns one row
// per group, ordered by contender (as Contenders lists them), kind and rate.
func Medians(runs []Run) []Row {
	type key struct {
		contender, kind string
		rate            int
		events          int64
	}
	groups := make(map[key][]Run)
	var keys []key
	for _, r := range runs {
		k := key{r.Contender, r.Kind, r.Rate, 0}
		if r.Kind != KindRate {
			k.events = r.Events
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	var rows []Row
	for _, k := range keys {
		g := groups[k]
		row := Row{Contender: k.contender, Kind: k.kind, Rate: k.rate, Runs: len(g)}
		var kept []Run
		for _, r := range g {
			if r.Sustained {
				kept = append(kept, r)
			}
		}
		row.SustainedRuns = len(kept)
		row.Sustained = 2*len(kept) > len(g)
		if !row.Sustained {
			kept = g // throughput and cost of what it managed; no latency
		}
		row.EventsPerS = Median(pluck(kept, func(r Run) float64 { return r.EventsPerS }))
		row.Events = int64(Median(pluck(kept, func(r Run) float64 { return float64(r.Events) })))
		row.CPUSPerMillion = Median(pluck(kept, func(r Run) float64 { return r.CPUSPerMillion }))
		row.PeakRSSMB = Median(pluck(kept, func(r Run) float64 { return r.PeakRSSMB }))
		row.Verified = verdicts(g)
		if row.Sustained && !slices.ContainsFunc(kept, func(r Run) bool { return r.Latency == nil }) {
			lat := func(f func(*Latency) float64) *float64 {
				m := Median(pluck(kept, func(r Run) float64 { return f(r.Latency) }))
				return &m
			}
			row.P50 = lat(func(l *Latency) float64 { return l.P50 })
			row.P95 = lat(func(l *Latency) float64 { return l.P95 })
			row.P99 = lat(func(l *Latency) float64 { return l.P99 })
			row.P999 = lat(func(l *Latency) float64 { return l.P999 })
			row.Max = lat(func(l *Latency) float64 { return l.Max })
			row.P99Runs = pluck(kept, func(r Run) float64 { return r.Latency.P99 })
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		return cmp.Or(
			cmp.Compare(slices.Index(Contenders, a.Contender), slices.Index(Contenders, b.Contender)),
			cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)),
			cmp.Compare(a.Rate, b.Rate),
			cmp.Compare(a.Events, b.Events))
	})
	return rows
}

func kindOrder(kind string) int {
	return slices.Index([]string{KindRate, KindBacklog, KindScale}, kind)
}

func pluck(runs []Run, f func(Run) float64) []float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	return xs
}

// verdicts is the runs' verdict: the one they share, or each with its count.
func verdicts(runs []Run) string {
	count := make(map[string]int)
	var order []string
	for _, r := range runs {
		if count[r.Verified] == 0 {
			order = append(order, r.Verified)
		}
		count[r.Verified]++
	}
	if len(order) == 1 {
		return order[0]
	}
	s := ""
	for i, v := range order {
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("%d× %s", count[v], v)
	}
	return s
}

// Find returns the row of contender, kind and rate (and, for backlog and
// scale rows, events when it is not 0), or nil.
func (f *File) Find(contender, kind string, rate int, events int64) *Row {
	for i := range f.Results {
		r := &f.Results[i]
		if r.Contender == contender && r.Kind == kind && r.Rate == rate && (events == 0 || r.Events == events) {
			return r
		}
	}
	return nil
}

// Write writes f as indented JSON to path.
func (f *File) Write(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Read reads a results file.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &f, nil
}
