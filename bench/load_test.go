package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/event-processor/event-processor/examples"
	"github.com/twmb/franz-go/pkg/kgo"
)

// headerProduced is the input header that carries the time its record was
// produced (nanoseconds on the benchmark's monotonic clock, decimal). Every
// contender copies the input's headers to its result, so the watcher reads
// it back from the result: one clock, in one process.
const headerProduced = "bench.produced-ns"

// clockBase anchors stamp, so that the time in a header is monotonic.
var clockBase = time.Now()

// stamp is the time on the benchmark's monotonic clock.
func stamp() int64 { return int64(time.Since(clockBase)) }

// invalidShare is the share of generated inputs that the contract routes to
// the error topic.
const invalidShare = 0.05

// loadPool returns n inputs, the same for the same seed, that the generator
// cycles through: valid events in the four shapes of examples.Mixed and,
// with probability invalidShare each, an invalid input of any kind the
// contract names (examples.Invalid).
func loadPool(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	mixed := examples.Mixed(n+n/9+10, seed)
	pool := make([][]byte, 0, n)
	for i, v := range mixed {
		if len(pool) == n {
			break
		}
		if i%10 == 9 {
			continue // Mixed's own invalid tenth
		}
		if rng.Float64() < invalidShare {
			v = examples.Invalid[rng.IntN(len(examples.Invalid))]
		}
		pool = append(pool, v)
	}
	return pool
}

// generator produces inputs from a pool, each stamped with headerProduced
// at the moment it is handed to the client. Records have no key: the
// client's default sticky partitioner spreads them over the partitions.
type generator struct {
	cl    *kgo.Client
	pool  [][]byte
	next  int
	sent  atomic.Int64 // handed to the client
	wg    sync.WaitGroup
	mu    sync.Mutex
	first error
}

// generatorLinger is the generator's producer linger: 1 ms batches the
// records of a millisecond at high rates and adds at most that to latency.
const generatorLinger = time.Millisecond

func newGenerator(addr, topic string, pool [][]byte, linger time.Duration) (*generator, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(linger),
		kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		return nil, err
	}
	return &generator{cl: cl, pool: pool}, nil
}

// send produces n inputs.
func (g *generator) send(ctx context.Context, n int) {
	for range n {
		v := g.pool[g.next]
		g.next = (g.next + 1) % len(g.pool)
		r := &kgo.Record{Value: v, Headers: []kgo.RecordHeader{{Key: headerProduced, Value: strconv.AppendInt(nil, stamp(), 10)}}}
		g.wg.Add(1)
		g.cl.Produce(ctx, r, g.done)
	}
	g.sent.Add(int64(n))
}

func (g *generator) done(_ *kgo.Record, err error) {
	if err != nil {
		g.mu.Lock()
		if g.first == nil {
			g.first = err
		}
		g.mu.Unlock()
	}
	g.wg.Done()
}

// flush waits until every input sent is acknowledged and returns the first
// produce error.
func (g *generator) flush(ctx context.Context) error {
	if err := g.cl.Flush(ctx); err != nil {
		return err
	}
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.first != nil {
		return fmt.Errorf("producing inputs: %w", g.first)
	}
	return nil
}

func (g *generator) close() { g.cl.Close() }

// preload produces n inputs from pool to topic as fast as the broker takes
// them, for a backlog run, and waits until every one is acknowledged.
func preload(ctx context.Context, addr, topic string, pool [][]byte, n int) error {
	gen, err := newGenerator(addr, topic, pool, 5*time.Millisecond)
	if err != nil {
		return err
	}
	defer gen.close()
	for sent := 0; sent < n; sent += 10_000 {
		gen.send(ctx, min(10_000, n-sent))
		if gen.cl.BufferedProduceRecords() > 200_000 {
			gen.cl.Flush(ctx)
		}
	}
	return gen.flush(ctx)
}

// pace is the outcome of a paced phase.
type pace struct {
	start       int64         // stamp when the phase began
	end         int64         // stamp when it ended
	windowSent  int64         // inputs sent in the window
	window      time.Duration // the window as it ran (shorter if stopped early)
	windowStart int64         // stamp
	windowEnd   int64         // stamp
	stoppedAt   string        // why it stopped early, if it did
}

// paced sends rate inputs per second for warmup and then window, in steps
// of about a millisecond, so that at any moment the inputs sent are rate
// times the time elapsed. onWindow runs when the window starts. Every
// quarter second behind is asked whether the contender has fallen behind;
// a non-empty answer stops the phase early.
func (g *generator) paced(ctx context.Context, rate int, warmup, window time.Duration, onWindow func(), behind func() string) pace {
	pc := pace{start: stamp()}
	start := time.Now()
	total := warmup + window
	var sent, atWindow int64
	inWindow := false
	nextCheck := 250 * time.Millisecond
	for ctx.Err() == nil {
		el := time.Since(start)
		if !inWindow && el >= warmup {
			inWindow, atWindow, pc.windowStart = true, sent, stamp()
			if onWindow != nil {
				onWindow()
			}
		}
		if el >= total {
			el = total
		}
		due := int64(float64(rate)*el.Seconds()) - sent
		if due > 0 {
			g.send(ctx, int(due))
			sent += due
		}
		if el >= total {
			break
		}
		if el >= nextCheck {
			nextCheck += 250 * time.Millisecond
			if why := behind(); why != "" {
				pc.stoppedAt = why
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	pc.windowEnd = stamp()
	pc.end = pc.windowEnd
	if inWindow {
		pc.windowSent = sent - atWindow
		pc.window = time.Duration(pc.windowEnd - pc.windowStart)
	}
	return pc
}

// watcher reads the output and error topics under read_committed from their
// start, as a downstream consumer would, and for every result records the
// time from its input's produce to the moment the poll that returned it
// came back. Results of inputs produced in [from, to) go into the
// histogram.
type watcher struct {
	cl   *kgo.Client
	hist *hdrhistogram.Histogram // microseconds; only the poll goroutine writes until stop
	from atomic.Int64
	to   atomic.Int64

	seen        atomic.Int64 // every result
	firstAt     atomic.Int64 // stamp of the first poll with a result
	firstN      atomic.Int64 // results in that poll
	lastAt      atomic.Int64 // stamp of the latest poll with a result
	inWindow    atomic.Int64 // results that became visible in [from, to)
	unstamped   atomic.Int64 // results without a readable headerProduced
	onFirst     func()       // runs once, on the poll goroutine, at the first result
	done        chan struct{}
	cancel      context.CancelFunc
	pollErr     error
	pollErrOnce sync.Once
}

// Latencies up to 10 minutes, at 3 significant digits.
const maxLatencyMicros = 10 * 60 * 1_000_000

func startWatcher(addr string, topics []string, onFirst func()) (*watcher, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{cl: cl, hist: hdrhistogram.New(1, maxLatencyMicros, 3), onFirst: onFirst, done: make(chan struct{}), cancel: cancel}
	w.from.Store(-1)
	w.to.Store(-1)
	go w.run(ctx)
	return w, nil
}

// window sets the produce-time range whose results go into the histogram.
func (w *watcher) window(from, to int64) {
	w.from.Store(from)
	w.to.Store(to)
}

func (w *watcher) run(ctx context.Context) {
	defer close(w.done)
	for {
		fs := w.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		now := stamp()
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				w.pollErrOnce.Do(func() { w.pollErr = fmt.Errorf("reading %s/%d: %w", topic, p, err) })
			}
		})
		n := int64(fs.NumRecords())
		if n == 0 {
			continue
		}
		from, to := w.from.Load(), w.to.Load()
		fs.EachRecord(func(r *kgo.Record) {
			t, ok := producedAt(r)
			if !ok {
				w.unstamped.Add(1)
				return
			}
			if t >= from && t < to && from >= 0 {
				w.hist.RecordValue(max(1, (now-t)/1000))
			}
		})
		if now >= from && now < to && from >= 0 {
			w.inWindow.Add(n)
		}
		if w.firstAt.Load() == 0 {
			w.firstAt.Store(now)
			w.firstN.Store(n)
			if w.onFirst != nil {
				w.onFirst()
			}
		}
		w.lastAt.Store(now)
		w.seen.Add(n)
	}
}

func producedAt(r *kgo.Record) (int64, bool) {
	for _, h := range r.Headers {
		if h.Key == headerProduced {
			t, err := strconv.ParseInt(string(h.Value), 10, 64)
			return t, err == nil
		}
	}
	return 0, false
}

// await waits until the watcher has seen n results, up to d; it reports
// whether it did.
func (w *watcher) await(n int64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for w.seen.Load() < n {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-w.done:
			return w.seen.Load() >= n
		case <-time.After(2 * time.Millisecond):
		}
	}
	return true
}

// stop ends the watcher and returns its first read error.
func (w *watcher) stop() error {
	w.cancel()
	<-w.done
	w.cl.Close()
	return w.pollErr
}
