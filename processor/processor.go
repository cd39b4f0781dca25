// Package processor is the event processor: it wires the event contract
// (package schema) into the exactly-once loop (package txn). Every input
// record becomes exactly one record, an enriched event on the output topic
// or an error event on the error topic, produced in the same Kafka
// transaction as the input's consumer offset. Each produced record keeps the
// input's headers and key (the event id when the input has none) and carries
// provenance headers naming its input. The package also serves Prometheus
// metrics and health endpoints and holds the configuration.
package processor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/event-processor/event-processor/txn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Processor runs the event processor. Build it with New and run it once with
// Run.
type Processor struct {
	cfg     Config
	log     *slog.Logger
	reg     *prometheus.Registry
	health  *health
	metrics *metrics
	opts    []kgo.Opt

	// Set by Run once the topics' record size limit is known, and again
	// when the limit changes (watchTopics).
	router atomic.Pointer[Router]
	now    func() time.Time

	keyHeadersSeen map[partitionHandling]bool // already told about, by reportKeyHeaders
}

// Option adjusts a Processor beyond its Config.
type Option func(*Processor)

// WithClientOpts adds kgo options to every client the processor makes (TLS,
// SASL, tests).
func WithClientOpts(opts ...kgo.Opt) Option {
	return func(p *Processor) { p.opts = append(p.opts, opts...) }
}

// WithClock replaces the processing clock (tests, the dry run).
func WithClock(now func() time.Time) Option {
	return func(p *Processor) { p.now = now }
}

// New validates cfg and returns a Processor that logs to log.
func New(cfg Config, log *slog.Logger, opts ...Option) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	p := &Processor{cfg: cfg, log: log, reg: prometheus.NewRegistry(), health: &health{}, now: time.Now}
	p.health.beat()
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p.metrics = newMetrics(p.reg, p.health, log, cfg.TransactionalID)
	// Every client the processor makes connects as cfg.Connect says.
	conn, err := cfg.Connect.ClientOpts(log)
	if err != nil {
		return nil, err
	}
	p.opts = conn
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Handler serves /metrics, /healthz and /readyz.
//
// /healthz is 200 while the loop is alive (it iterates at least every
// second, and waits for topics or brokers without blocking), and 503 if it
// has not for a while: liveness never depends on the broker. /readyz is 200
// once the topics exist and the instance has joined the group and received
// its assignment (possibly empty: a standby beyond the partition count is
// ready), and 503 before that, while the group is lost and while draining on
// shutdown.
func (p *Processor) Handler() http.Handler {
	stall := 3*p.cfg.TransactionTimeout + 30*time.Second
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{Registry: p.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if since := p.health.sinceBeat(); since > stall {
			http.Error(w, fmt.Sprintf("loop has not iterated for %s", since.Round(time.Second)), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if why := p.health.notReady(); why != "" {
			http.Error(w, why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Run serves HTTP (when --http-addr is set), waits until the broker answers
// and the three topics exist, then processes input until ctx is cancelled.
// It then drains: readiness turns false, the open transaction commits (or
// aborts), the instance leaves the group, and Run returns nil. Broker
// trouble never ends Run; it is logged and retried.
func (p *Processor) Run(ctx context.Context) error {
	if p.cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", p.cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("--http-addr: listening on %s: %w", p.cfg.HTTPAddr, err)
		}
		srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		}()
		p.log.Info("serving metrics and health", "addr", ln.Addr().String())
	}
	go func() {
		<-ctx.Done()
		p.health.draining.Store(true)
		p.log.Info("stopping: readiness is off; finishing the open transaction (commit, or abort if a produce failed) and leaving the group",
			"shutdown_timeout", p.cfg.ShutdownTimeout)
	}()

	admCl, err := p.adminClient()
	if err != nil {
		return err
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	limit, err := p.awaitTopics(ctx, adm)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	rt, err := NewRouter(p.cfg, limit, p.now)
	if err != nil {
		return fmt.Errorf("--max-record-bytes: %w", err)
	}
	p.router.Store(rt)
	ids, err := topicIDs(ctx, adm, p.cfg)
	if err != nil && ctx.Err() != nil {
		return nil
	}

	loop, err := txn.New(txn.Config{
		Brokers:            p.cfg.Brokers,
		Group:              p.cfg.Group,
		Topics:             []string{p.cfg.InputTopic},
		TransactionalID:    p.cfg.TransactionalID,
		MaxRecords:         p.cfg.MaxRecords,
		MaxInterval:        p.cfg.MaxInterval,
		Linger:             p.cfg.Linger,
		TransactionTimeout: p.cfg.TransactionTimeout,
		ShutdownTimeout:    p.cfg.ShutdownTimeout,
		Logger:             p.log,
		Observer:           p.metrics,
		// The limit can change while the processor runs (watchTopics):
		// each new session takes the current one.
		SessionOpts: func() []kgo.Opt {
			return []kgo.Opt{kgo.ProducerBatchMaxBytes(int32(p.router.Load().Limit()))}
		},
		ClientOpts: append([]kgo.Opt{
			kgo.SessionTimeout(p.cfg.SessionTimeout),
			// Static membership (KIP-345): an instance that restarts
			// after a crash takes its partitions back at once instead
			// of after a session timeout; its predecessor, if still
			// alive, is fenced as a group member as well as by its
			// transactional id.
			kgo.InstanceID(p.cfg.TransactionalID),
			// The client id shows which instance owns which partition
			// in `ktool lag` and the broker's logs.
			kgo.ClientID(p.cfg.TransactionalID),
			// New input partitions are noticed (and assigned) within
			// this, not after kgo's default of 5 minutes.
			kgo.MetadataMaxAge(metadataMaxAge),
		}, p.opts...),
	}, p.transform)
	if err != nil {
		return err
	}
	p.health.started.Store(true)
	p.log.Info("processing: joining the group and waiting for an assignment",
		"input_topic", p.cfg.InputTopic, "output_topic", p.cfg.OutputTopic, "error_topic", p.cfg.ErrorTopic,
		"group", p.cfg.Group, "transactional_id", p.cfg.TransactionalID, "record_limit_bytes", limit,
		"connection", p.cfg.Connect.Summary())
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		p.watchTopics(watchCtx, adm, loop, ids)
	}()
	err = loop.Run(ctx)
	stopWatch()
	<-watched
	if err == nil {
		p.leaveGroup()
	}
	p.log.Info("stopped", "error", err)
	return err
}

// metadataMaxAge is how often the processor's clients refresh the cluster's
// metadata: partitions added to the input topic are processed within about
// this long.
const metadataMaxAge = 10 * time.Second

// staticLeaveTimeout bounds the explicit leave on shutdown.
const staticLeaveTimeout = 2 * time.Second

// leaveGroup removes this instance from the group by its instance id. A
// static member's client does not leave when it closes, so that a restart
// finds its partitions waiting; on a deliberate stop (a scale-down, a
// rolling restart) the partitions must move to the other instances at
// once, not after a session timeout.
func (p *Processor) leaveGroup() {
	ctx, cancel := context.WithTimeout(context.Background(), staticLeaveTimeout)
	defer cancel()
	cl, err := p.adminClient()
	if err == nil {
		defer cl.Close()
		var resps kadm.LeaveGroupResponses
		resps, err = kadm.NewClient(cl).LeaveGroup(ctx, kadm.LeaveGroup(p.cfg.Group).InstanceIDs(p.cfg.TransactionalID).Reason("event-processor stopping"))
		if err == nil {
			err = resps.Error()
		}
	}
	if err != nil && !errors.Is(err, kerr.UnknownMemberID) {
		p.log.Warn("leaving the group as a static member did not complete; its partitions move to the other instances after the session timeout",
			"session_timeout", p.cfg.SessionTimeout.String(), "err", err)
		return
	}
	p.log.Info("left the group", "group_instance_id", p.cfg.TransactionalID)
}

// adminClient returns a client for the processor's own admin requests
// (the topics' limits, leaving the group); close it.
func (p *Processor) adminClient() (*kgo.Client, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(p.cfg.Brokers...), kgo.WithLogger(nil)}, p.opts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	return cl, nil
}

// awaitTopics waits, with backoff, until the broker answers and the input,
// output and error topics exist, and returns the record size limit: the
// configured maximum lowered to the output and error topics'
// max.message.bytes. The processor never creates topics.
func (p *Processor) awaitTopics(ctx context.Context, adm *kadm.Client) (int, error) {
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		p.health.beat()
		limit, err := RecordLimit(ctx, adm, p.cfg)
		if err == nil {
			return limit, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		level := slog.LevelWarn
		if attempt > 1 && attempt%10 != 0 {
			level = slog.LevelDebug // say it once, then every tenth attempt
		}
		p.health.startProblem.Store(err.Error())
		p.log.Log(ctx, level, "not ready: retrying", "error", err, "attempt", attempt, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// MissingTopicError is a topic the processor needs that does not exist.
type MissingTopicError struct {
	Topic   string
	Brokers []string
}

func (e *MissingTopicError) Error() string {
	return fmt.Sprintf("topic %q does not exist: create it, e.g. `ktool --brokers %s topics create %s --partitions 6` "+
		"(the processor never creates topics)", e.Topic, strings.Join(e.Brokers, ","), e.Topic)
}

// isNetErr reports whether err is a failure to connect or a dropped
// connection rather than an answer from a broker.
func isNetErr(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// RecordLimit checks that cfg's input, output and error topics exist and
// returns the record size limit the processor keeps every result under:
// --max-record-bytes lowered to the output and error topics'
// max.message.bytes. The processor reads it once, at start-up; a verifier
// reads it the same way to know what the processor made of each input.
func RecordLimit(ctx context.Context, adm *kadm.Client, cfg Config) (int, error) {
	topics := []string{cfg.InputTopic, cfg.OutputTopic, cfg.ErrorTopic}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	configs, err := adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		var se *kadm.ShardErrors
		if errors.As(err, &se) && len(se.Errs) > 0 {
			err = se.Errs[0].Err // the broker's own error, not kadm's wrapping of it
		}
		if errors.Is(err, kerr.TopicAuthorizationFailed) {
			return 0, fmt.Errorf("not authorized: DescribeConfigs on the topics %s is missing (the processor reads their max.message.bytes at start-up): %w",
				strings.Join(topics, ", "), err)
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrClientClosed) || isNetErr(err) {
			return 0, fmt.Errorf("cannot reach the Kafka brokers %v (check --kafka-bootstrap-servers and the network): %w", cfg.Brokers, err)
		}
		return 0, fmt.Errorf("describing topics %v: %w", topics, err)
	}
	limit := cfg.MaxRecordBytes
	for _, rc := range configs {
		if errors.Is(rc.Err, kerr.UnknownTopicOrPartition) {
			return 0, &MissingTopicError{Topic: rc.Name, Brokers: cfg.Brokers}
		}
		if errors.Is(rc.Err, kerr.TopicAuthorizationFailed) {
			return 0, fmt.Errorf("not authorized: DescribeConfigs on the topics %s is missing (the processor reads their max.message.bytes at start-up): %w",
				rc.Name, rc.Err)
		}
		if rc.Err != nil {
			return 0, fmt.Errorf("describing topic %q: %w", rc.Name, rc.Err)
		}
		if rc.Name == cfg.InputTopic {
			continue
		}
		for _, c := range rc.Configs {
			if c.Key != "max.message.bytes" || c.Value == nil {
				continue
			}
			if n, err := strconv.Atoi(*c.Value); err == nil && n < limit {
				limit = n
			}
		}
	}
	if limit < MinRecordBytes {
		return 0, fmt.Errorf("record size limit %d bytes (--max-record-bytes or the output and error topics' max.message.bytes) is below the minimum %d",
			limit, MinRecordBytes)
	}
	return limit, nil
}

// partitionHandling is an input partition and what became of a key and
// headers on it.
type partitionHandling struct {
	partition int32
	kh        KeyHeaders
}

// reportKeyHeaders logs, once per input partition and kind, an input whose
// key and headers did not fit the room kept for them. It runs on the
// loop's goroutine, as transform does.
func (p *Processor) reportKeyHeaders(in *kgo.Record, kh KeyHeaders, size int) {
	k := partitionHandling{in.Partition, kh}
	if p.keyHeadersSeen[k] {
		return
	}
	if p.keyHeadersSeen == nil {
		p.keyHeadersSeen = make(map[partitionHandling]bool)
	}
	p.keyHeadersSeen[k] = true
	what := "the event's size budget was reduced by the excess"
	if kh == Dropped {
		what = "they were dropped (the result is keyed by the event id, else the input's coordinates)"
	}
	p.log.Warn("an input's key and headers need more than the room kept for them; "+what+
		" (logged once per partition; event_processor_key_headers_total counts them)",
		"topic", in.Topic, "partition", in.Partition, "offset", in.Offset,
		"key_and_headers_bytes", size, "room_bytes", keyHeaderRoom, "record_limit_bytes", p.router.Load().Limit())
}

// transform is the per-record function the loop runs: one input record in,
// one output or error record out.
func (p *Processor) transform(in *kgo.Record, out []*kgo.Record) []*kgo.Record {
	r, res, kh, size := p.router.Load().RouteDetail(in)
	p.metrics.staged(res.IsError, res.ErrorType, kh)
	if kh != Carried {
		p.reportKeyHeaders(in, kh, size)
	}
	return append(out, r)
}
