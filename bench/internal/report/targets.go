package report

import (
	"fmt"
	"strings"
)

// Target is one of issue 14's targets checked against a run's medians.
type Target struct {
	Name string `json:"name"`
	// Met is nil when the run could not check it (a contender was left
	// out, or never sustained a rate the other did).
	Met      *bool  `json:"met"`
	Measured string `json:"measured"`
}

// Status is "met", "missed" or "not measured".
func (t Target) Status() string {
	switch {
	case t.Met == nil:
		return "not measured"
	case *t.Met:
		return "met"
	}
	return "missed"
}

// Targets checks issue 14's targets, every one a ratio or a figure of one
// run's medians: throughput at defaults on the backlog at least 0.90 of the
// at-least-once pipe's and 3 times tuned Kafka Streams'; p99 at most 100 ms
// at 1,000 and 5,000 events/s; p99 lower than both Kafka Streams variants'
// at every rate both sustain; CPU time per event at most 1/4 and peak RSS
// at most 1/10 of tuned Kafka Streams' wherever both ran (every rate both
// sustain, and the backlog).
func (f *File) Targets() []Target {
	var ts []Target
	backlog := func(c string) *Row { return f.Find(c, KindBacklog, 0, int64(f.Settings.BacklogEvents)) }
	ep := backlog(EventProcessor)

	ratio := func(name, other string, min float64) {
		t := Target{Name: name}
		o := backlog(other)
		if ep == nil || o == nil || o.EventsPerS == 0 {
			t.Measured = f.missing(other)
		} else {
			r := ep.EventsPerS / o.EventsPerS
			t.Met = ptr(r >= min)
			t.Measured = fmt.Sprintf("%.2fx (%s vs %s events/s); %s", r, num(ep.EventsPerS), num(o.EventsPerS), margin(r, min, true))
		}
		ts = append(ts, t)
	}
	ratio("throughput >= 0.90x at-least-once", AtLeastOnce, 0.90)
	ratio("throughput >= 3x kafka-streams-tuned", KafkaStreamsTuned, 3)

	for _, rate := range []int{1000, 5000} {
		t := Target{Name: fmt.Sprintf("p99 <= 100 ms at %s/s", num(float64(rate)))}
		switch r := f.Find(EventProcessor, KindRate, rate, 0); {
		case r == nil:
			t.Measured = "rate not run"
		case !r.Sustained || r.P99 == nil:
			t.Met, t.Measured = ptr(false), "fell behind"
		default:
			t.Met = ptr(*r.P99 <= 100)
			t.Measured = fmt.Sprintf("%s ms; %s", ms(*r.P99), margin(*r.P99, 100, false))
		}
		ts = append(ts, t)
	}

	for _, other := range []string{KafkaStreams, KafkaStreamsTuned} {
		t := Target{Name: "p99 lower than " + other + " at every rate both sustain"}
		var parts []string
		met, n := true, 0
		for _, rate := range f.Settings.Rates {
			a, b := f.Find(EventProcessor, KindRate, rate, 0), f.Find(other, KindRate, rate, 0)
			if a == nil || b == nil || b.P99 == nil {
				continue
			}
			if a.P99 == nil { // it sustains, we do not
				met = false
				parts = append(parts, fmt.Sprintf("%s/s: fell behind, %s sustains %s ms", num(float64(rate)), other, ms(*b.P99)))
				n++
				continue
			}
			n++
			met = met && *a.P99 < *b.P99
			parts = append(parts, fmt.Sprintf("%s/s: %s vs %s ms", num(float64(rate)), ms(*a.P99), ms(*b.P99)))
		}
		if n == 0 {
			t.Measured = f.missing(other)
		} else {
			t.Met, t.Measured = ptr(met), strings.Join(parts, "; ")
		}
		ts = append(ts, t)
	}

	cost := func(name string, max float64, of func(*Row) float64, unit string) {
		t := Target{Name: name}
		var parts []string
		met, n := true, 0
		worst := 0.0
		check := func(label string, a, b *Row) {
			if a == nil || b == nil || !a.Sustained || !b.Sustained || of(b) == 0 {
				return
			}
			r := of(a) / of(b)
			n++
			met = met && r <= max
			worst = maxf(worst, r)
			parts = append(parts, fmt.Sprintf("%s: %.2f (%s vs %s %s)", label, r, num2(of(a)), num2(of(b)), unit))
		}
		for _, rate := range f.Settings.Rates {
			check(num(float64(rate))+"/s", f.Find(EventProcessor, KindRate, rate, 0), f.Find(KafkaStreamsTuned, KindRate, rate, 0))
		}
		check("backlog", ep, backlog(KafkaStreamsTuned))
		if n == 0 {
			t.Measured = f.missing(KafkaStreamsTuned)
		} else {
			t.Met = ptr(met)
			t.Measured = fmt.Sprintf("worst %.2f (%s); %s", worst, margin(worst, max, false), strings.Join(parts, "; "))
		}
		ts = append(ts, t)
	}
	cost("CPU per event <= 1/4 of kafka-streams-tuned", 0.25, func(r *Row) float64 { return r.CPUSPerMillion }, "CPU-s/M")
	cost("peak RSS <= 1/10 of kafka-streams-tuned", 0.10, func(r *Row) float64 { return r.PeakRSSMB }, "MB")
	return ts
}

// missing says why a comparison with contender could not be made.
func (f *File) missing(contender string) string {
	if why, ok := f.Skipped[contender]; ok {
		return contender + " not run: " + why
	}
	return "no rate that both sustained"
}

// margin says by how much x beats or misses the bound: x should be at
// least bound when atLeast, else at most bound.
func margin(x, bound float64, atLeast bool) string {
	if atLeast == (x >= bound) || x == bound {
		if atLeast {
			return fmt.Sprintf("%.0f%% above the bound", 100*(x/bound-1))
		}
		return fmt.Sprintf("%.0f%% under the bound", 100*(1-x/bound))
	}
	if atLeast {
		return fmt.Sprintf("missed by %.0f%%", 100*(1-x/bound))
	}
	return fmt.Sprintf("missed by %.0f%% (%.2fx the bound)", 100*(x/bound-1), x/bound)
}

func ptr[T any](v T) *T { return &v }

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}
