package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Markdown is the run's figures as docs/benchmarks.md shows them: the
// command, machine and versions, the latency table, the backlog and scale
// tables, the targets and the plots (linked relative to docs/).
func (f *File) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	d := time.Duration(f.DurationS * float64(time.Second)).Round(time.Second)
	w("Run of %s, %s in all: `%s`\n\n", f.Started, d, f.Command)
	m := f.Machine
	w("| | |\n|-|-|\n")
	w("| machine | %d cores (%s), %.0f GB RAM, Linux %s |\n", m.CPUs, m.CPUModel, m.MemoryGB, m.Kernel)
	quiet := "quiet"
	if !m.Quiet {
		quiet = "not quiet: " + m.QuietNote
	}
	w("| load before the first round | %.2f (%s) |\n", m.Load1, quiet)
	for _, k := range sortedKeys(f.Versions) {
		w("| %s | %s |\n", k, f.Versions[k])
	}
	s := f.Settings
	rates := make([]string, len(s.Rates))
	for i, r := range s.Rates {
		rates[i] = num(float64(r))
	}
	w("| settings | %d rounds, rotated order; rates %s events/s, each %.0f s of warm-up then a %.0f s window; backlog %s events; %d partitions; %.0f%% invalid inputs; behind = more than %.0f s of input outstanding |\n",
		s.Rounds, strings.Join(rates, ", "), s.WarmupS, s.WindowS, num(float64(s.BacklogEvents)), s.Partitions, 100*s.InvalidShare, s.BehindAfterS)
	for _, c := range sortedKeys(f.Skipped) {
		w("| %s | left out: %s |\n", c, f.Skipped[c])
	}

	w("\n**Produce-to-visible latency at fixed offered loads** (read_committed; medians of the rounds that kept up):\n\n")
	w("| contender | offered/s | kept up | events/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | p99 per round | CPU-s per 1M events | peak RSS MB |\n")
	w("|---|--:|:-:|--:|--:|--:|--:|--:|--:|---|--:|--:|\n")
	for _, r := range f.Results {
		if r.Kind != KindRate {
			continue
		}
		kept := fmt.Sprintf("%d/%d", r.SustainedRuns, r.Runs)
		if r.Sustained {
			w("| %s | %s | %s | %s | %s | %s | **%s** | %s | %s | %s | %s | %s |\n", r.Contender, num(float64(r.Rate)), kept, num(r.EventsPerS),
				ms(*r.P50), ms(*r.P95), ms(*r.P99), ms(*r.P999), ms(*r.Max), join(r.P99Runs, ms), num2(r.CPUSPerMillion), num2(r.PeakRSSMB))
		} else {
			w("| %s | %s | %s | %s | fell behind | | | | | | %s | %s |\n", r.Contender, num(float64(r.Rate)), kept, num(r.EventsPerS),
				num2(r.CPUSPerMillion), num2(r.PeakRSSMB))
		}
	}

	w("\n**Throughput on a backlog** of %s events (from the first result visible to the last; medians):\n\n", num(float64(s.BacklogEvents)))
	w("| contender | events/s | event-processor / it | CPU-s per 1M events | peak RSS MB | runs | verified |\n|---|--:|--:|--:|--:|--:|---|\n")
	ep := f.Find(EventProcessor, KindBacklog, 0, int64(s.BacklogEvents))
	for _, r := range f.Results {
		if r.Kind != KindBacklog {
			continue
		}
		x := ""
		if ep != nil && r.EventsPerS > 0 {
			x = fmt.Sprintf("%.2f", ep.EventsPerS/r.EventsPerS)
		}
		w("| %s | %s | %s | %s | %s | %d | %s |\n", r.Contender, num(r.EventsPerS), x, num2(r.CPUSPerMillion), num2(r.PeakRSSMB), r.Runs, r.Verified)
	}

	var scale []Row
	for _, r := range f.Results {
		if r.Contender == EventProcessor && (r.Kind == KindScale || r.Kind == KindBacklog) {
			scale = append(scale, r)
		}
	}
	if len(scale) > 1 {
		sort.SliceStable(scale, func(i, j int) bool { return scale[i].Events < scale[j].Events })
		w("\n**Scale**: event-processor on backlogs of other sizes (one run each; the %s row is the backlog median above):\n\n", num(float64(s.BacklogEvents)))
		w("| events | events/s | CPU-s per 1M events | peak RSS MB | verified |\n|--:|--:|--:|--:|---|\n")
		for _, r := range scale {
			w("| %s | %s | %s | %s | %s |\n", num(float64(r.Events)), num(r.EventsPerS), num2(r.CPUSPerMillion), num2(r.PeakRSSMB), r.Verified)
		}
	}

	w("\n**Targets** (issue 14), from the medians above:\n\n| target | | measured |\n|---|---|---|\n")
	for _, t := range f.Targets() {
		w("| %s | **%s** | %s |\n", t.Name, t.Status(), t.Measured)
	}
	w("\n![p99 and p50 latency against offered load](../bench/results/latency.png)\n")
	w("![throughput on a backlog](../bench/results/throughput.png)\n")
	return b.String()
}

// num formats x rounded to an integer with thousands separators.
func num(x float64) string {
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// num2 formats x with three significant digits, at least as an integer.
func num2(x float64) string {
	switch a := math.Abs(x); {
	case a >= 100:
		return num(x)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// ms formats milliseconds: one decimal below 10 ms.
func ms(x float64) string {
	if x < 10 {
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return num(x)
}

func join(xs []float64, f func(float64) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = f(x)
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The markers around the generated part of docs/benchmarks.md.
const (
	BeginMarker = "<!-- results: generated by `go run ./bench/cmd/report` from bench/results/latest.json -->"
	EndMarker   = "<!-- end of results -->"
)

// Splice returns doc with the part between BeginMarker and EndMarker
// replaced by md.
func Splice(doc, md string) (string, error) {
	i := strings.Index(doc, BeginMarker)
	j := strings.Index(doc, EndMarker)
	if i < 0 || j < i {
		return "", fmt.Errorf("the document has no %q ... %q section", BeginMarker, EndMarker)
	}
	return doc[:i+len(BeginMarker)] + "\n\n" + md + "\n" + doc[j:], nil
}
