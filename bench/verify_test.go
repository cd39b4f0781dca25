package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/verify"
)

var flagVerifyEvents = flag.Int("bench.verify-events", 1_000_000, "input events for BenchmarkKtoolVerify")

// BenchmarkKtoolVerify measures `ktool verify` on a real volume: the
// processor processes -bench.verify-events mixed events on the benchmark's
// broker, and once its group has committed them all the ktool binary
// verifies them; the benchmark reports its wall time and CPU time
// (getrusage of the child) and its peak RSS (VmHWM), as the OS measured
// them. docs/ktool.md records the figures.
func BenchmarkKtoolVerify(b *testing.B) {
	brk := sharedBroker(b)
	ctx := context.Background()
	adm, err := brk.Admin()
	if err != nil {
		b.Fatal(err)
	}
	defer adm.Close()
	p := newPipeline(b, adm, brk.Addr, "bench-verify")
	n := *flagVerifyEvents
	if _, err := preProduce(ctx, brk.Addr, p.input, examples.Mixed(n, 5)); err != nil {
		b.Fatal(err)
	}
	stop, err := eventProcessor.start(ctx, p)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	ends, err := verify.EndOffsets(ctx, adm, p.input)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, _, err := awaitCommitted(ctx, adm, p.group, p.input, ends, time.Now().Add(5*time.Minute)); err != nil {
		b.Fatal(err)
	}

	bin := filepath.Join(b.TempDir(), "ktool")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/ktool").CombinedOutput(); err != nil {
		b.Fatalf("building ktool: %v\n%s", err, out)
	}
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(bin, "verify", "--brokers", brk.Addr, "--input-topic", p.input, "--output-topic", p.output,
			"--error-topic", p.errored, "--group", p.group, "--timeout", "10m")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		peak := watchPeakRSS(cmd.Process.Pid)
		err := cmd.Wait()
		wall := time.Since(start)
		if err != nil {
			b.Fatalf("ktool verify: %v\n%s", err, out.String())
		}
		rss := peak()
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(rss, "peak-rss-MB")
		b.ReportMetric(cpu.Seconds(), "cpu-s")
		b.Logf("%d inputs: ktool verify took %s wall, %s CPU, peak RSS %.1f MB\n%s",
			n, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), rss, out.String())
	}
}

// watchPeakRSS samples the high-water mark of pid's resident set (VmHWM in
// /proc/PID/status, which the kernel keeps for the process's own memory
// since its exec) every 5 ms until the process is gone, and returns a
// function that gives the last sample in MB. getrusage's maxrss would not
// do: a child started with vfork, as Go starts them, inherits the parent's
// high-water mark at exec.
func watchPeakRSS(pid int) (peak func() float64) {
	var last atomic.Int64 // kB
	done := make(chan struct{})
	go func() {
		defer close(done)
		path := fmt.Sprintf("/proc/%d/status", pid)
		for {
			b, err := os.ReadFile(path)
			if err != nil {
				return
			}
			for line := range strings.Lines(string(b)) {
				if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil {
						last.Store(kb)
					}
				}
			}
			if strings.Contains(string(b), "State:\tZ") {
				return // exited, not yet reaped: the last sample stands
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return func() float64 {
		<-done
		return float64(last.Load()) / 1024
	}
}
