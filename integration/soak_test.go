package integration

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxEpoch is the highest producer epoch: under transaction.version 2 every
// EndTxn bumps the epoch, and the coordinator moves the transactional id to
// a new producer id when it is used up (KIP-890).
const maxEpoch = 1<<15 - 1

// TestSoak runs one processor for SOAK_DURATION (`make soak`; skipped
// without it) on a steady input, SOAK_BATCH inputs every SOAK_EVERY, with
// the default transaction bounds, so that it commits continuously: at light
// load a transaction ends as soon as its input is drained, about once per
// batch, and under transaction.version 2 the producer epoch runs out after
// 32,767 of them (about 27 minutes at the default 20 batches a second). Every few seconds it reads the processor's
// /metrics; at the end it checks exactly-once with package verify, that
// nothing was rebuilt, aborted or failed, that the longest pause between
// commits while input flowed stayed short, and, once more transactions
// committed than one producer id has epochs, that the output carries
// several producer ids: the epoch was exhausted and the processor went on.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("SOAK_DURATION"))
	if err != nil || d <= 0 {
		t.Skip("set SOAK_DURATION (a Go duration, e.g. 60m; make soak) to run the soak")
	}
	batch, err := strconv.Atoi(cmp.Or(os.Getenv("SOAK_BATCH"), "10"))
	if err != nil || batch < 1 {
		t.Fatalf("SOAK_BATCH=%q: want a positive number of inputs per batch", os.Getenv("SOAK_BATCH"))
	}
	every, err := time.ParseDuration(cmp.Or(os.Getenv("SOAK_EVERY"), "50ms"))
	if err != nil || every <= 0 {
		t.Fatalf("SOAK_EVERY=%q: want a positive Go duration between batches", os.Getenv("SOAK_EVERY"))
	}
	if v := brokerTransactionVersion(t); v < 2 {
		t.Fatalf("the broker runs transaction.version %d; the soak needs 2 (KIP-890)", v)
	}

	p := newPipeline(t, broker, 6, nil)
	live := p.startLiveReader(t, p.output, p.errored)
	pids := p.startProducerIDReader(t)
	binary(t, "event-processor")
	feed := p.feed(t, examples.Mixed(10_000, 11), batch, every)
	addr := freeAddr(t)
	pr := p.startProcess(t, "soak-a", "--http-addr", addr, "--txn-max-records", "10000")

	start := time.Now()
	t.Logf("soak: %s, %d inputs every %s, metrics on %s", d, batch, every, addr)
	var (
		last       soakMetrics
		lastChange = time.Now()
		maxStall   time.Duration
		nextLog    = time.Now().Add(time.Minute)
	)
	for time.Since(start) < d {
		time.Sleep(time.Second)
		m, err := scrapeSoak(addr)
		if err != nil {
			t.Fatalf("after %s: %v\n%s", time.Since(start).Round(time.Second), err, tail(pr.out.String(), 40))
		}
		if m.committed > last.committed {
			lastChange = time.Now()
		} else if s := time.Since(lastChange); s > maxStall {
			maxStall = s
		}
		last = m
		if time.Now().After(nextLog) {
			n, epoch := pids.state()
			t.Logf("soak: %s: %.0f committed (%.0f/s), %.0f aborted, %.0f failed, %.0f rebuilds; %d producer ids seen, last epoch %d",
				time.Since(start).Round(time.Second), m.committed, m.committed/time.Since(start).Seconds(), m.aborted, m.failed, m.rebuilds, n, epoch)
			nextLog = nextLog.Add(time.Minute)
		}
	}

	inputs := feed.stop(t)
	p.checkExactlyOnce(t, inputs, 2*time.Minute)
	m, err := scrapeSoak(addr)
	if err != nil {
		t.Fatal(err)
	}
	pr.signal(t, syscall.SIGTERM)
	if code := pr.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	checkLive(t, live, len(inputs))
	n, epoch := pids.state()
	t.Logf("soak done after %s: %d inputs, %.0f transactions committed (%.0f/s), %.0f aborted, %.0f failed, %.0f session rebuilds, longest pause between commits %s, %d producer ids on the output, last epoch %d",
		time.Since(start).Round(time.Second), len(inputs), m.committed, m.committed/time.Since(start).Seconds(), m.aborted, m.failed, m.rebuilds, maxStall.Round(time.Second), n, epoch)
	if m.aborted > 0 || m.failed > 0 || m.rebuilds > 0 {
		t.Errorf("%.0f transactions aborted, %.0f failed and %.0f session rebuilds on a healthy broker, want none", m.aborted, m.failed, m.rebuilds)
	}
	// Metrics are read every second; a pause of a few seconds is one
	// slow End on a busy machine, not a stop.
	if maxStall > 10*time.Second {
		t.Errorf("no commit for %s while input flowed", maxStall.Round(time.Second))
	}
	if m.committed > maxEpoch && n < 2 {
		t.Errorf("%.0f transactions committed on one producer id, more than its %d epochs: the output should carry a second", m.committed, maxEpoch)
	}
}

// brokerTransactionVersion is the shared broker's finalized
// transaction.version.
func brokerTransactionVersion(t *testing.T) int16 {
	t.Helper()
	cl := newClient(t, broker)
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "event-processor-integration", "1"
	resp, err := req.RequestWith(t.Context(), cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		t.Fatalf("asking the broker its features: %v", err)
	}
	for _, f := range resp.FinalizedFeatures {
		if f.Name == "transaction.version" {
			return f.MaxVersionLevel
		}
	}
	return 0
}

// soakMetrics is what the soak reads from /metrics.
type soakMetrics struct{ committed, aborted, failed, rebuilds float64 }

func scrapeSoak(addr string) (soakMetrics, error) {
	var m soakMetrics
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + addr + "/metrics")
	if err != nil {
		return m, fmt.Errorf("reading the processor's metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case `event_processor_transactions_total{result="committed"}`:
			m.committed = v
		case `event_processor_transactions_total{result="aborted"}`:
			m.aborted = v
		case `event_processor_transactions_total{result="failed"}`:
			m.failed = v
		case "event_processor_session_rebuilds_total":
			m.rebuilds = v
		}
	}
	return m, sc.Err()
}

// producerIDReader records the producer ids and the last epoch of the
// committed records on the pipeline's output and error topics.
type producerIDReader struct {
	mu    sync.Mutex
	ids   map[int64]bool
	epoch int16
}

func (p *pipeline) startProducerIDReader(t *testing.T) *producerIDReader {
	t.Helper()
	cl := newClient(t, p.b, kgo.ConsumeTopics(p.output, p.errored), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.WithLogger(nil))
	ctx, cancel := context.WithCancel(context.Background())
	r := &producerIDReader{ids: make(map[int64]bool)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(rec *kgo.Record) {
				r.mu.Lock()
				r.ids[rec.ProducerID] = true
				r.epoch = rec.ProducerEpoch
				r.mu.Unlock()
			})
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func (r *producerIDReader) state() (ids int, epoch int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids), r.epoch
}
