package bench

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/event-processor/event-processor/bench/internal/report"
	"github.com/event-processor/event-processor/integration"
	"github.com/event-processor/event-processor/verify"
	"github.com/twmb/franz-go/pkg/kadm"
)

var (
	flagLatRounds  = flag.Int("bench.latency-rounds", 3, "rounds of BenchmarkLatency; each runs every contender at every rate and on the backlog, in rotated order")
	flagLatRates   = flag.String("bench.rates", "1000,5000,20000,50000,100000", "offered rates of BenchmarkLatency, events/s, ascending")
	flagLatWarmup  = flag.Duration("bench.warmup", 5*time.Second, "warm-up at each rate before the window (not measured)")
	flagLatWindow  = flag.Duration("bench.window", 10*time.Second, "measured window at each rate")
	flagLatBacklog = flag.Int("bench.backlog", 1_000_000, "inputs of BenchmarkLatency's backlog runs")
	flagLatScale   = flag.String("bench.scale", "100000,5000000", "other backlog sizes run once for event-processor after the rounds (empty: none)")
	flagLatOut     = flag.String("bench.out", "results", "directory for latest.json and the plots")
	flagLatOnly    = flag.String("bench.contenders", "", "only these contenders, comma-separated (default: every one that can run)")
	flagQuietWait  = flag.Duration("bench.quietwait", 40*time.Minute, "longest wait before the first round for a quiet machine (load1 below -bench.maxload, no compiler running)")
)

// behindAfter: a rated run has fallen behind when more than this much of
// its input is outstanding, or its results are not all visible this long
// after the last input was produced.
const behindAfter = 2 * time.Second

// drainLimit bounds the wait for the rest of a run that fell behind, so
// that its results can still be verified.
const drainLimit = 90 * time.Second

// startLimit bounds a contender's start: process, group join, assignment
// and its first results visible.
const startLimit = 90 * time.Second

// primeEvents are produced, and their results awaited, before a rated run's
// paced phase: the contender is then running and assigned.
const primeEvents = 20

// latencySuite is one BenchmarkLatency (or BenchmarkSmoke) run.
type latencySuite struct {
	settings report.Settings
	scale    []int
	warmup   time.Duration
	window   time.Duration
	out      string // directory for the results; "" writes none
	pool     [][]byte
}

// contenders returns the contenders that can run, and why the others
// cannot.
func availableContenders() ([]contender, map[string]string) {
	cs := []contender{epContender, aloContender, rawContender}
	skipped := make(map[string]string)
	if err := streamsAvailable(); err != nil {
		skipped[report.KafkaStreams] = err.Error()
		skipped[report.KafkaStreamsTuned] = err.Error()
		return cs, skipped
	}
	cs = append(cs, streamsContender(false))
	if err := streamsTunedAvailable(); err != nil {
		skipped[report.KafkaStreamsTuned] = err.Error()
	} else {
		cs = append(cs, streamsContender(true))
	}
	return cs, skipped
}

// BenchmarkLatency is the run docs/benchmarks.md reports: on one broker,
// -bench.latency-rounds rounds; each round runs every contender at every
// offered rate (-bench.rates; a contender that falls behind at a rate is
// not offered the higher ones in that round) and on a backlog
// (-bench.backlog inputs), the contenders' order rotated by one every
// rate and round. Then event-processor once on each -bench.scale backlog.
// Every run's results are verified. It writes latest.json and the plots
// into -bench.out and logs the Markdown tables.
func BenchmarkLatency(b *testing.B) {
	rates, err := ints(*flagLatRates)
	if err != nil {
		b.Fatalf("-bench.rates: %v", err)
	}
	scale, err := ints(*flagLatScale)
	if err != nil {
		b.Fatalf("-bench.scale: %v", err)
	}
	for range b.N {
		s := &latencySuite{
			settings: report.Settings{Rounds: *flagLatRounds, Rates: rates, WarmupS: flagLatWarmup.Seconds(), WindowS: flagLatWindow.Seconds(),
				BacklogEvents: *flagLatBacklog, ScaleEvents: scale},
			scale: scale, warmup: *flagLatWarmup, window: *flagLatWindow, out: *flagLatOut,
		}
		f := s.run(b, "go test -v -count=1 ./bench/ -run '^$' -bench Latency -benchtime=1x -timeout 3h -args "+strings.Join(benchArgs(), " "), *flagQuietWait, true)
		b.Logf("results:\n%s", f.Markdown())
	}
}

// BenchmarkSmoke is BenchmarkLatency in miniature, for `make bench-smoke`:
// every contender that can run (the Kafka Streams ones skip, saying why,
// without the jar or java), one round at 1,000 events/s for 2 s and a
// backlog of 5,000, every result verified, and the results file, tables and
// plots made in a temporary directory.
func BenchmarkSmoke(b *testing.B) {
	for range b.N {
		s := &latencySuite{
			settings: report.Settings{Rounds: 1, Rates: []int{1000}, WarmupS: 1, WindowS: 2, BacklogEvents: 5000},
			warmup:   time.Second, window: 2 * time.Second, out: b.TempDir(),
		}
		f := s.run(b, "go test ./bench/ -run '^$' -bench Smoke -benchtime=1x", 0, false)
		for _, c := range []string{report.EventProcessor, report.AtLeastOnce, report.RawCopy} {
			for _, kind := range []string{report.KindRate, report.KindBacklog} {
				if r := f.Find(c, kind, map[string]int{report.KindRate: 1000}[kind], 0); r == nil {
					b.Errorf("no %s %s row in the results", c, kind)
				}
			}
		}
		for _, name := range []string{"latest.json", "latency.png", "throughput.png"} {
			if fi, err := os.Stat(filepath.Join(s.out, name)); err != nil || fi.Size() == 0 {
				b.Errorf("%s was not written: %v", name, err)
			}
		}
		b.Logf("results:\n%s", f.Markdown())
	}
}

// run runs the suite and returns its results file, written into s.out.
func (s *latencySuite) run(b *testing.B, command string, quietWait time.Duration, warm bool) *report.File {
	b.Helper()
	started := time.Now()
	s.settings.Partitions, s.settings.InvalidShare, s.settings.BehindAfterS = partitions, invalidShare, behindAfter.Seconds()
	s.pool = loadPool(1<<16, 42)
	cs, skipped := availableContenders()
	if *flagLatOnly != "" {
		only := strings.Split(*flagLatOnly, ",")
		cs = slices.DeleteFunc(cs, func(c contender) bool { return !slices.Contains(only, c.name) })
		for _, name := range report.Contenders {
			if !slices.Contains(only, name) {
				skipped[name] = "not selected (-bench.contenders)"
			}
		}
	}
	for name, why := range skipped {
		b.Logf("%s left out: %s", name, why)
	}
	bins, err := buildBinaries()
	if err != nil {
		b.Fatal(err)
	}
	brk := sharedBroker(b)
	adm, err := brk.Admin()
	if err != nil {
		b.Fatal(err)
	}
	defer adm.Close()

	f := &report.File{Command: command, Started: started.UTC().Format(time.RFC3339), Settings: s.settings, Skipped: skipped}
	f.Machine, f.Versions = machine(), versions()
	f.Machine.Quiet, f.Machine.QuietNote, f.Machine.Load1 = awaitQuiet(b, quietWait)
	if warm {
		// A new broker has yet to create its internal topics and compile
		// its hot paths: that must not be charged to whichever contender
		// runs first. The warm-up's figures are thrown away.
		for _, c := range []contender{epContender, aloContender} {
			s.backlogRun(b, adm, brk.Addr, bins, c, 200_000, 0)
		}
	}
	behind := make(map[string]int) // the lowest rate each contender fell behind at, this round
	for round := range s.settings.Rounds {
		clear(behind)
		for i, rate := range s.settings.Rates {
			for _, c := range rotate(cs, round+i) {
				if r, ok := behind[c.name]; ok {
					b.Logf("round %d: %s not offered %d/s: it fell behind at %d/s", round+1, c.name, rate, r)
					continue
				}
				run := s.ratedRun(b, adm, brk.Addr, bins, c, rate, round+1)
				f.Runs = append(f.Runs, run)
				if !run.Sustained {
					behind[c.name] = rate
				}
			}
		}
		for _, c := range rotate(cs, round) {
			f.Runs = append(f.Runs, s.backlogRun(b, adm, brk.Addr, bins, c, s.settings.BacklogEvents, round+1))
		}
	}
	for _, n := range s.scale {
		if n == s.settings.BacklogEvents {
			continue
		}
		run := s.backlogRun(b, adm, brk.Addr, bins, epContender, n, 1)
		run.Kind = report.KindScale
		f.Runs = append(f.Runs, run)
	}
	f.Results = report.Medians(f.Runs)
	f.DurationS = time.Since(started).Seconds()
	if s.out != "" {
		if err := os.MkdirAll(s.out, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := f.Write(filepath.Join(s.out, "latest.json")); err != nil {
			b.Fatal(err)
		}
		if err := f.Plots(s.out); err != nil {
			b.Fatal(err)
		}
	}
	return f
}

// ratedRun runs c at rate events/s on fresh topics: start it, prime it,
// offer the rate for the warm-up and the window, wait for the results,
// stop it, verify.
func (s *latencySuite) ratedRun(b *testing.B, adm *kadm.Client, addr string, bins binaries, c contender, rate, round int) report.Run {
	b.Helper()
	ctx := context.Background()
	run := report.Run{Contender: c.name, Kind: report.KindRate, Rate: rate, Round: round}
	run.Load1, _ = loadAvg()
	p := newPipeline(b, adm, addr, "lat-"+c.name)
	defer p.remove(adm)
	gen, err := newGenerator(addr, p.input, s.pool, generatorLinger)
	if err != nil {
		b.Fatal(err)
	}
	defer gen.close()
	w, err := startWatcher(addr, p.results(c), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer w.stop()

	pr, err := startProc(c.command(bins, p))
	if err != nil {
		b.Fatalf("%s: starting: %v", c.name, err)
	}
	stopped := false
	defer func() {
		if !stopped {
			pr.stop()
		}
	}()
	gen.send(ctx, primeEvents)
	if !w.await(primeEvents, startLimit) {
		pr.stop()
		stopped = true
		b.Fatalf("%s: no results within %s of starting; its output:\n%s", c.name, startLimit, pr.out.String())
	}

	var cpu0 time.Duration
	onWindow := func() {
		from := stamp()
		w.window(from, from+int64(s.window))
		cpu0, _ = pr.cpu()
	}
	behindAt := func() string {
		if done, err := pr.exited(); done {
			return fmt.Sprintf("the process exited: %v", err)
		}
		if out := gen.sent.Load() - w.seen.Load(); out > int64(float64(rate)*behindAfter.Seconds()) {
			return fmt.Sprintf("%d inputs outstanding (more than %s of input)", out, behindAfter)
		}
		return ""
	}
	seen0 := w.seen.Load()
	cpuStart, _ := pr.cpu()
	pc := gen.paced(ctx, rate, s.warmup, s.window, onWindow, behindAt)
	seen1 := w.seen.Load()
	if err := gen.flush(ctx); err != nil {
		b.Fatal(err)
	}
	want := gen.sent.Load()
	run.Events = pc.windowSent
	run.Sustained, run.Behind = true, pc.stoppedAt
	if run.Behind == "" && !w.await(want, behindAfter) {
		run.Behind = fmt.Sprintf("%d results not visible %s after the last input", want-w.seen.Load(), behindAfter)
	}
	caughtUp := w.await(want, drainLimit)
	cpu1, _ := pr.cpu()
	if pc.window > 0 {
		run.OfferedPerS = float64(pc.windowSent) / pc.window.Seconds()
		run.EventsPerS = float64(w.inWindow.Load()) / pc.window.Seconds()
	}
	if run.Behind != "" {
		// What it managed while offered more: results visible from the
		// start of the paced phase to its (early) end.
		run.EventsPerS = float64(seen1-seen0) / time.Duration(pc.end-pc.start).Seconds()
	}
	if run.Behind == "" && run.OfferedPerS < 0.95*float64(rate) {
		run.Behind = fmt.Sprintf("the generator reached only %.0f/s: the machine could not offer the rate", run.OfferedPerS)
	}
	run.Sustained = run.Behind == ""
	run.CPUS = (cpu1 - cpu0).Seconds()
	if run.Events > 0 {
		run.CPUSPerMillion = run.CPUS / float64(run.Events) * 1e6
	}
	if run.Behind != "" {
		// Behind: the CPU time of the paced phase and the drain, per
		// result that became visible meanwhile.
		run.CPUS = (cpu1 - cpuStart).Seconds()
		run.CPUSPerMillion = run.CPUS / float64(max(1, w.seen.Load()-seen0)) * 1e6
	}
	if err := pr.stop(); err != nil {
		b.Errorf("%s: %v", c.name, err)
	}
	stopped = true
	run.PeakRSSMB = pr.peak()
	if run.Sustained {
		h := w.hist
		q := func(p float64) float64 { return float64(h.ValueAtPercentile(p)) / 1000 }
		run.Latency = &report.Latency{P50: q(50), P95: q(95), P99: q(99), P999: q(99.9), Max: float64(h.Max()) / 1000}
	}
	if err := w.stop(); err != nil {
		b.Errorf("%s: reading the results: %v", c.name, err)
	}
	if !caughtUp {
		run.Verified = fmt.Sprintf("not verified: %d of %d results visible after %s", w.seen.Load(), want, drainLimit)
		b.Logf("%s at %d/s: %s", c.name, rate, run.Verified)
	} else {
		run.Verified = s.check(b, adm, addr, p, c, want, w)
	}
	b.Logf("round %d %-20s %6d/s: %s", round, c.name, rate, describeRun(run))
	return run
}

// backlogRun pre-produces n inputs, then starts c and times it from its
// first result visible to its last.
func (s *latencySuite) backlogRun(b *testing.B, adm *kadm.Client, addr string, bins binaries, c contender, n, round int) report.Run {
	b.Helper()
	ctx := context.Background()
	run := report.Run{Contender: c.name, Kind: report.KindBacklog, Round: round, Events: int64(n), Sustained: true}
	p := newPipeline(b, adm, addr, "backlog-"+c.name)
	defer p.remove(adm)
	if err := preload(ctx, addr, p.input, s.pool, n); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	run.Load1, _ = loadAvg()

	ends, err := verify.EndOffsets(ctx, adm, p.input)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	pr, err := startProc(c.command(bins, p))
	if err != nil {
		b.Fatalf("%s: starting: %v", c.name, err)
	}
	// Done when the group has committed every input, as the offsets say
	// (polled every 20 ms): for the exactly-once contenders that is when
	// the last results become visible. Reading every result here would
	// compete with the contender for the CPU.
	var (
		firstAt           time.Time
		firstN            int64
		cpuFirst, cpuLast time.Duration
	)
	wctx, cancel := context.WithTimeout(ctx, runTimeout+startLimit)
	err = verify.AwaitCommitted(wctx, adm, p.group, p.input, ends, func(committed int64) {
		if committed > 0 && firstAt.IsZero() {
			firstAt, firstN = time.Now(), committed
			cpuFirst, _ = pr.cpu()
		}
	})
	cancel()
	endAt := time.Now()
	cpuLast, _ = pr.cpu()
	if serr := pr.stop(); serr != nil {
		b.Errorf("%s: %v", c.name, serr)
	}
	run.PeakRSSMB = pr.peak()
	if err != nil {
		b.Fatalf("%s: %v", c.name, err)
	}
	run.TotalS = endAt.Sub(start).Seconds()
	run.StartupCPUS = cpuFirst.Seconds()
	if steadyN := int64(n) - firstN; steadyN >= int64(n)/2 && endAt.After(firstAt) {
		run.EventsPerS = float64(steadyN) / endAt.Sub(firstAt).Seconds()
		run.CPUS = (cpuLast - cpuFirst).Seconds()
		run.CPUSPerMillion = run.CPUS / float64(steadyN) * 1e6
	} else {
		// Most of a small backlog in the first commit: the whole life.
		run.EventsPerS = float64(n) / run.TotalS
		run.CPUS = cpuLast.Seconds()
		run.CPUSPerMillion = run.CPUS / float64(n) * 1e6
	}
	run.Verified = s.check(b, adm, addr, p, c, int64(n), nil)
	if round > 0 {
		b.Logf("round %d %-20s backlog %d: %s", round, c.name, n, describeRun(run))
	}
	return run
}

// check verifies a run's results by c's guarantee and returns the verdict;
// a run that breaks its guarantee fails the benchmark.
func (s *latencySuite) check(b *testing.B, adm *kadm.Client, addr string, p *pipeline, c contender, inputs int64, w *watcher) string {
	b.Helper()
	if w != nil {
		if n := w.unstamped.Load(); n > 0 {
			b.Errorf("%s: %d results without the %s header of their input", c.name, n, headerProduced)
		}
	}
	if c.guarantee == "copy" {
		// Plain records: the output's end offsets count them.
		ends, err := verify.EndOffsets(context.Background(), adm, p.output)
		if err != nil {
			b.Fatal(err)
		}
		if copies := ends.Total(); copies < inputs {
			b.Errorf("%s: %d copies of %d inputs", c.name, copies, inputs)
			return fmt.Sprintf("FAILED: %d copies of %d inputs", copies, inputs)
		}
		return fmt.Sprintf("copied: %d inputs, %d copies", inputs, ends.Total())
	}
	rep, err := verifyRun(context.Background(), addr, p)
	if err != nil {
		b.Fatalf("%s: verifying the results: %v", c.name, err)
	}
	wrong := rep.Violations()
	if c.guarantee == "at-least-once" {
		wrong -= rep.Count(verify.Duplicated) + rep.Count(verify.OutOfOrder)
	}
	if c.ownEncoding {
		wrong -= rep.Count(verify.Mismatched)
	}
	if wrong > 0 || rep.Inputs != inputs {
		var text strings.Builder
		rep.WriteText(&text)
		b.Errorf("%s: %d inputs produced; verify says:\n%s", c.name, inputs, text.String())
		return fmt.Sprintf("FAILED: %d violations", wrong)
	}
	switch {
	case c.guarantee == "at-least-once":
		return fmt.Sprintf("at least once: %d inputs, %d duplicated", rep.Inputs, rep.Count(verify.Duplicated))
	case c.ownEncoding && rep.Count(verify.Mismatched) > 0:
		return fmt.Sprintf("exactly once, routing and order (own JSON encoding: %d of %d results differ in bytes)", rep.Count(verify.Mismatched), rep.Inputs)
	case c.ownEncoding:
		return "exactly once (and byte for byte as the contract makes them)"
	}
	return "exactly once"
}

func describeRun(r report.Run) string {
	s := fmt.Sprintf("%.0f events/s, CPU %.2fs (%.1f CPU-s/M), peak RSS %.0f MB, load1 %.2f", r.EventsPerS, r.CPUS, r.CPUSPerMillion, r.PeakRSSMB, r.Load1)
	if r.Kind == report.KindRate {
		if r.Latency != nil {
			s += fmt.Sprintf(", p50 %.1f p99 %.1f p99.9 %.1f max %.1f ms", r.Latency.P50, r.Latency.P99, r.Latency.P999, r.Latency.Max)
		} else {
			s += ", fell behind: " + r.Behind
		}
	} else {
		s += fmt.Sprintf(", %.2fs from start, start-up CPU %.2fs", r.TotalS, r.StartupCPUS)
	}
	return s + "; " + r.Verified
}

// results are the topics a contender's results are read from.
func (p *pipeline) results(c contender) []string {
	if c.guarantee == "copy" {
		return []string{p.output}
	}
	return []string{p.output, p.errored}
}

// remove deletes the pipeline's topics and group, keeping the broker's logs
// small for the runs that follow.
func (p *pipeline) remove(adm *kadm.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm.DeleteTopics(ctx, p.input, p.output, p.errored)
	adm.DeleteGroup(ctx, p.group)
}

func rotate[T any](xs []T, by int) []T {
	out := make([]T, len(xs))
	for i := range xs {
		out[i] = xs[(i+by)%len(xs)]
	}
	return out
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchArgs are the -bench.* flags set on the command line.
func benchArgs() []string {
	var args []string
	flag.Visit(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "bench.") {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	return args
}

// awaitQuiet waits up to wait until the 1-minute load average is below
// -bench.maxload and no compiler or linker is running, and says whether it
// got there, what it saw if not, and the load average it left at.
func awaitQuiet(b *testing.B, wait time.Duration) (quiet bool, note string, load float64) {
	b.Helper()
	deadline := time.Now().Add(wait)
	for {
		load, _ = loadAvg()
		busy := compilers()
		if load < *flagLoad && len(busy) == 0 {
			return true, "", load
		}
		note = fmt.Sprintf("load1 %.2f", load)
		if len(busy) > 0 {
			note += "; running: " + strings.Join(busy, ", ")
		}
		if time.Now().After(deadline) {
			b.Logf("machine not quiet after %s (%s): measuring anyway", wait, note)
			return false, note, load
		}
		b.Logf("waiting for a quiet machine: %s", note)
		time.Sleep(30 * time.Second)
	}
}

// compilers lists the Go builds, compilers and linkers running.
func compilers() []string {
	ents, _ := os.ReadDir("/proc")
	seen := make(map[string]bool)
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		name := filepath.Base(args[0])
		switch {
		case (name == "go") && len(args) > 1 && args[1] == "build",
			name == "compile", name == "link", name == "cc1", name == "javac":
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out
}

// machine describes the machine from /proc.
func machine() report.Machine {
	m := report.Machine{CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		fmt.Sscanf(string(b), "MemTotal: %f kB", &kb)
		m.MemoryGB = kb / (1 << 20)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// versions are the versions of everything the run used.
func versions() map[string]string {
	v := map[string]string{
		"go":    fmt.Sprintf("%s %s/%s, GOMAXPROCS %d", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0)),
		"kafka": fmt.Sprintf("Apache Kafka %s, image %s, one KRaft node (broker and controller), host networking", integration.KafkaVersion(), integration.Image()),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/twmb/franz-go" || d.Path == "github.com/HdrHistogram/hdrhistogram-go" || d.Path == "gonum.org/v1/plot" {
				v[d.Path] = d.Version
			}
		}
	}
	if out, err := exec.Command("java", "-version").CombinedOutput(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		v["java"] = strings.TrimSpace(lines[len(lines)-1])
	}
	if b, err := os.ReadFile("streams/pom.xml"); err == nil {
		for _, prop := range []string{"kafka.version", "jackson.version"} {
			if _, rest, ok := strings.Cut(string(b), "<"+prop+">"); ok {
				if val, _, ok := strings.Cut(rest, "</"); ok {
					v["kafka-streams "+prop] = val
				}
			}
		}
	}
	if b, err := os.ReadFile(*flagStreamsJar); err == nil {
		v["kafka-streams jar sha256"] = fmt.Sprintf("%x", sha256.Sum256(b))[:16]
	}
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").Output(); err == nil {
		v["docker"] = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		v["event-processor commit"] = strings.TrimSpace(string(out))
	}
	return v
}
