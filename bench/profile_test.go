package bench

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/event-processor/event-processor/verify"
)

var (
	flagProfileDir    = flag.String("bench.profile-dir", "", "directory for BenchmarkProfile's profiles (default: a temporary one, logged)")
	flagProfileEvents = flag.Int("bench.profile-events", 1_000_000, "backlog BenchmarkProfile profiles the processor on")
	flagProfileRate   = flag.Int("bench.profile-rate", 20_000, "offered rate BenchmarkProfile profiles the processor at, for -bench.window")
)

// BenchmarkProfile profiles the processor (processor.New and Run, in this
// process, with its defaults) the way the latency benchmark loads it: a
// CPU and an allocation profile on a backlog of -bench.profile-events
// inputs (backlog-*.pprof), then on -bench.profile-rate inputs a second for
// -bench.window (rate-*.pprof). The profiles cover the whole
// process: the processor, and the generator's produce and the offset
// polling the benchmark does beside it. Read them with
// `go tool pprof -top FILE`; docs/benchmarks.md says what they showed.
func BenchmarkProfile(b *testing.B) {
	dir := *flagProfileDir
	if dir == "" {
		dir = b.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	brk := sharedBroker(b)
	adm, err := brk.Admin()
	if err != nil {
		b.Fatal(err)
	}
	defer adm.Close()
	ctx := context.Background()
	pool := loadPool(1<<16, 42)
	for range b.N {
		// On a backlog.
		p := newPipeline(b, adm, brk.Addr, "profile-backlog")
		if err := preload(ctx, brk.Addr, p.input, pool, *flagProfileEvents); err != nil {
			b.Fatal(err)
		}
		ends, err := verify.EndOffsets(ctx, adm, p.input)
		if err != nil {
			b.Fatal(err)
		}
		profiled(b, dir, "backlog", func() {
			stop, err := eventProcessor.start(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if _, _, _, err := awaitCommitted(ctx, adm, p.group, p.input, ends, start.Add(runTimeout)); err != nil {
				b.Fatal(err)
			}
			b.Logf("backlog of %d: %.0f events/s in process", *flagProfileEvents, float64(*flagProfileEvents)/time.Since(start).Seconds())
			if err := stop(); err != nil {
				b.Error(err)
			}
		})
		s := &latencySuite{}
		s.check(b, adm, brk.Addr, p, epContender, int64(*flagProfileEvents), nil)
		p.remove(adm)

		// At a fixed rate.
		p = newPipeline(b, adm, brk.Addr, "profile-rate")
		gen, err := newGenerator(brk.Addr, p.input, pool, generatorLinger)
		if err != nil {
			b.Fatal(err)
		}
		stop, err := eventProcessor.start(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		gen.send(ctx, primeEvents)
		profiled(b, dir, "rate", func() {
			gen.paced(ctx, *flagProfileRate, 0, *flagLatWindow, nil, func() string { return "" })
			if err := gen.flush(ctx); err != nil {
				b.Fatal(err)
			}
		})
		gen.close()
		ends, err = verify.EndOffsets(ctx, adm, p.input)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, _, err := awaitCommitted(ctx, adm, p.group, p.input, ends, time.Now().Add(runTimeout)); err != nil {
			b.Fatal(err)
		}
		if err := stop(); err != nil {
			b.Error(err)
		}
		s.check(b, adm, brk.Addr, p, epContender, ends.Total(), nil)
		p.remove(adm)
	}
	b.Logf("profiles in %s: go tool pprof -top %s", dir, filepath.Join(dir, "backlog-cpu.pprof"))
}

// profiled runs fn under a CPU profile written to NAME-cpu.pprof in dir,
// and writes the allocation profile before and after it to
// NAME-allocs-base.pprof and NAME-allocs.pprof: the phase's own allocations
// are `go tool pprof -diff_base NAME-allocs-base.pprof NAME-allocs.pprof`.
func profiled(b *testing.B, dir, name string, fn func()) {
	b.Helper()
	cpu, err := os.Create(filepath.Join(dir, name+"-cpu.pprof"))
	if err != nil {
		b.Fatal(err)
	}
	defer cpu.Close()
	writeAllocs(b, filepath.Join(dir, name+"-allocs-base.pprof"))
	if err := pprof.StartCPUProfile(cpu); err != nil {
		b.Fatal(err)
	}
	fn()
	pprof.StopCPUProfile()
	writeAllocs(b, filepath.Join(dir, name+"-allocs.pprof"))
}

// writeAllocs writes the allocation profile so far (cumulative since the
// process started: read a phase's own with -diff_base).
func writeAllocs(b *testing.B, path string) {
	b.Helper()
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
