package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/integration"
	"github.com/event-processor/event-processor/verify"
)

var flagVerifyEvents = flag.Int("bench.verify-events", 1_000_000, "input events for BenchmarkKtoolVerify")

// BenchmarkKtoolVerify measures `ktool verify` on a real volume: the
// processor processes -bench.verify-events mixed events on the benchmark's
// broker, and once its group has committed them all the ktool binary
// verifies them; the benchmark reports its wall time, CPU time and peak
// RSS as the OS measured them (getrusage of the child). docs/ktool.md records the
// figures.
func BenchmarkKtoolVerify(b *testing.B) {
	brk := sharedBroker(b)
	ctx := context.Background()
	adm, err := brk.Admin()
	if err != nil {
		b.Fatal(err)
	}
	defer adm.Close()
	id := fmt.Sprintf("bench-verify-%d", time.Now().UnixNano())
	p := &pipeline{addr: brk.Addr, input: id + "-in", output: id + "-out", errored: id + "-err", group: id}
	for _, topic := range []string{p.input, p.output, p.errored} {
		if err := integration.CreateTopic(ctx, adm, topic, partitions, nil); err != nil {
			b.Fatal(err)
		}
	}
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
		err := cmd.Run()
		wall := time.Since(start)
		if err != nil {
			b.Fatalf("ktool verify: %v\n%s", err, out.String())
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MB")
		b.ReportMetric(cpu.Seconds(), "cpu-s")
		b.Logf("%d inputs: ktool verify took %s wall %s CPU, peak RSS %.1f MB\n%s",
			n, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), float64(ru.Maxrss)/1024, out.String())
	}
}
