package bench

import (
	"context"
	"flag"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/event-processor/event-processor/integration"
	"github.com/event-processor/event-processor/verify"
)

var flagScaleOutEvents = flag.Int("bench.scaleout-events", 1_000_000, "backlog of BenchmarkScaleOut, for each instance count")

// scaleOutPartitions divides evenly among 1, 2 and 3 instances.
const scaleOutPartitions = 6

// BenchmarkScaleOut runs event-processor's binary with 1, 2 and 3 instances
// in one group on the integration harness's 3-node cluster (replication
// factor 3, min.insync.replicas 2, transaction.version 2): each time a
// fresh backlog of -bench.scaleout-events inputs on 6 partitions, timed
// from the group's first commit seen to its last (start-up and the group's
// join left out), the CPU time of every instance summed, every result
// verified. On one machine the instances share its cores with the three
// brokers, so this measures what a group of instances costs, not what more
// machines would add.
func BenchmarkScaleOut(b *testing.B) {
	bins, err := buildBinaries()
	if err != nil {
		b.Fatal(err)
	}
	setTestcontainersEnv()
	ctx := context.Background()
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	cluster, err := integration.StartCluster(startCtx, integration.ClusterConfig{Nodes: 3})
	cancel()
	if err != nil {
		b.Fatalf("starting the cluster: %v", err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cluster.Terminate(ctx)
	})
	adm := cluster.Admin()
	seed := cluster.Bootstrap()[0]
	pool := loadPool(1<<16, 42)
	var lines []string
	for range b.N {
		for _, n := range []int{1, 2, 3} {
			id := fmt.Sprintf("scaleout-%d-%d", n, time.Now().UnixNano())
			p := &pipeline{addr: strings.Join(cluster.Bootstrap(), ","), input: id + "-in", output: id + "-out", errored: id + "-err", group: id}
			for _, topic := range []string{p.input, p.output, p.errored} {
				if err := cluster.CreateTopic(ctx, topic, scaleOutPartitions, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := preload(ctx, seed, p.input, pool, *flagScaleOutEvents); err != nil {
				b.Fatal(err)
			}
			ends, err := verify.EndOffsets(ctx, adm, p.input)
			if err != nil {
				b.Fatal(err)
			}
			cfg := p.config()
			procs := make([]*proc, n)
			for i := range procs {
				cmd := exec.Command(bins.processor, "--kafka-bootstrap-servers", p.addr,
					"--input-topic", cfg.InputTopic, "--output-topic", cfg.OutputTopic, "--error-topic", cfg.ErrorTopic,
					"--consumer-group", cfg.Group, "--transactional-id", fmt.Sprintf("%s-%d", cfg.Group, i),
					"--http-addr", "127.0.0.1:0")
				if procs[i], err = startProc(cmd); err != nil {
					b.Fatal(err)
				}
			}
			cpu := func() time.Duration {
				var sum time.Duration
				for _, pr := range procs {
					c, _ := pr.cpu()
					sum += c
				}
				return sum
			}
			var (
				firstAt       time.Time
				firstN        int64
				cpuFirst      time.Duration
				wctx, wcancel = context.WithTimeout(ctx, runTimeout+startLimit)
			)
			err = verify.AwaitCommitted(wctx, adm, p.group, p.input, ends, func(committed int64) {
				if committed > 0 && firstAt.IsZero() {
					firstAt, firstN, cpuFirst = time.Now(), committed, cpu()
				}
			})
			wcancel()
			endAt, cpuLast := time.Now(), cpu()
			var rss float64
			for _, pr := range procs {
				if serr := pr.stop(); serr != nil {
					b.Errorf("instance: %v", serr)
				}
				rss += pr.peak()
			}
			if err != nil {
				b.Fatalf("%d instances: %v", n, err)
			}
			steady := int64(*flagScaleOutEvents) - firstN
			rate := float64(steady) / endAt.Sub(firstAt).Seconds()
			perM := (cpuLast - cpuFirst).Seconds() / float64(steady) * 1e6
			s := &latencySuite{}
			verdict := s.check(b, adm, seed, p, epContender, int64(*flagScaleOutEvents), nil)
			line := fmt.Sprintf("| %d | %.0f | %.2f | %.0f | %s |", n, rate, perM, rss, verdict)
			b.Logf("%s", line)
			lines = append(lines, line)
			b.ReportMetric(rate, fmt.Sprintf("events/s-%d", n))
			adm.DeleteTopics(ctx, p.input, p.output, p.errored)
		}
	}
	b.Logf("%d events on %d partitions, RF 3:\n| instances | events/s | CPU-s per 1M events, all instances | peak RSS MB, summed | verified |\n|--:|--:|--:|--:|---|\n%s",
		*flagScaleOutEvents, scaleOutPartitions, strings.Join(lines, "\n"))
}
