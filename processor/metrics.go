package processor

import (
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/event-processor/event-processor/txn"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the processor's Prometheus metrics and its txn.Observer. The
// per-result counters count results of committed transactions only: the
// transform stages its counts and a commit publishes them, so a batch that
// aborts and is processed again is counted once.
type metrics struct {
	consumed     prometheus.Counter
	results      *prometheus.CounterVec // outcome=output|error
	errors       *prometheus.CounterVec // error_type
	transactions *prometheus.CounterVec // result=committed|aborted|failed
	commitDur    prometheus.Histogram
	txnRecords   prometheus.Histogram
	rebalances   *prometheus.CounterVec // kind=assigned|revoked|lost
	rebuilds     prometheus.Counter
	lag          *prometheus.GaugeVec // topic, partition
	assigned     prometheus.Gauge
	authFailures *prometheus.CounterVec // resource, operation
	authFailing  prometheus.Gauge
	fenced       prometheus.Counter
	keyHeaders   *prometheus.CounterVec // handling=shrunk|dropped

	log   *slog.Logger
	txnID string

	// Staged by the transform, published by a commit; both run on the loop
	// goroutine.
	stagedOutputs    int
	stagedErrors     map[string]int
	stagedKeyHeaders map[KeyHeaders]int

	health *health

	mu         sync.Mutex
	partitions map[string]map[int32]bool
}

func newMetrics(reg prometheus.Registerer, h *health, log *slog.Logger, txnID string) *metrics {
	const ns = "event_processor"
	m := &metrics{
		consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "records_consumed_total",
			Help: "Input records polled, including records polled again after an aborted transaction.",
		}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "records_total",
			Help: "Input records whose result was committed, by outcome (output or error).",
		}, []string{"outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "error_events_total",
			Help: "Committed error events by error type.",
		}, []string{"error_type"}),
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "transactions_total",
			Help: "Transactions ended, by result: committed, aborted (rebalance or failed produce; input is processed again) or failed (session rebuilt).",
		}, []string{"result"}),
		commitDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Name: "commit_duration_seconds",
			Help:    "Time to end a transaction (flush and EndTxn), whatever its result; a failed Begin ends none and is not observed.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		txnRecords: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Name: "records_per_transaction",
			Help:    "Input records per committed transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		rebalances: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "rebalances_total",
			Help: "Group rebalance events seen by this instance, by kind: assigned, revoked or lost.",
		}, []string{"kind"}),
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "session_rebuilds_total",
			Help: "Transactional sessions closed after an error and built again.",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "consumer_lag_records",
			Help: "Per assigned input partition, the high watermark minus the next offset to consume, as of the last fetch.",
		}, []string{"topic", "partition"}),
		assigned: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "assigned_partitions",
			Help: "Input partitions currently assigned to this instance.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "authorization_failures_total",
			Help: "Polls, produces and sessions the broker refused for a missing permission, by ACL resource type and operation (the logs name the resource).",
		}, []string{"resource", "operation"}),
		authFailing: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "authorization_failing",
			Help: "1 while the broker refuses a permission the processor needs (it is then not ready), else 0.",
		}),
		stagedErrors:     make(map[string]int),
		health:           h,
		log:              log,
		txnID:            txnID,
		stagedKeyHeaders: make(map[KeyHeaders]int),
		keyHeaders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "key_headers_total",
			Help: "Committed results whose input's key and headers needed more than the room kept for them, by handling: shrunk (the event's size budget was reduced) or dropped (key and headers not carried).",
		}, []string{"handling"}),
		fenced: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "fenced_total",
			Help: "Times another process with this transactional id took over (a restart fences its predecessor once; a rising count means two live instances share the id).",
		}),
		partitions: make(map[string]map[int32]bool),
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Name: "ready",
		Help: "1 while the instance is ready (what /readyz says), else 0.",
	}, func() float64 {
		if h.ready() {
			return 1
		}
		return 0
	}))
	reg.MustRegister(m.fenced, m.keyHeaders)
	reg.MustRegister(m.consumed, m.results, m.errors, m.transactions, m.commitDur,
		m.txnRecords, m.rebalances, m.rebuilds, m.lag, m.assigned, m.authFailures, m.authFailing)
	for _, r := range []string{"committed", "aborted", "failed"} {
		m.transactions.WithLabelValues(r)
	}
	for _, o := range []string{"output", "error"} {
		m.results.WithLabelValues(o)
	}
	return m
}

// staged records one result of the open transaction.
func (m *metrics) staged(isError bool, errorType string, kh KeyHeaders) {
	if kh != Carried {
		m.stagedKeyHeaders[kh]++
	}
	if isError {
		m.stagedErrors[errorType]++
	} else {
		m.stagedOutputs++
	}
}

func (m *metrics) Consumed(n int) { m.consumed.Add(float64(n)) }

func (m *metrics) TransactionEnded(o txn.Outcome, records int, d time.Duration) {
	m.transactions.WithLabelValues(o.String()).Inc()
	if d > 0 {
		// Zero is a failed Begin: no transaction was ended.
		m.commitDur.Observe(d.Seconds())
	}
	if o == txn.Committed {
		m.txnRecords.Observe(float64(records))
		m.results.WithLabelValues("output").Add(float64(m.stagedOutputs))
		for t, n := range m.stagedErrors {
			m.results.WithLabelValues("error").Add(float64(n))
			m.errors.WithLabelValues(t).Add(float64(n))
		}
		for kh, n := range m.stagedKeyHeaders {
			m.keyHeaders.WithLabelValues(kh.String()).Add(float64(n))
		}
	}
	m.stagedOutputs = 0
	clear(m.stagedErrors)
	clear(m.stagedKeyHeaders)
}

func (m *metrics) Fenced(err error) {
	m.fenced.Inc()
	m.log.Error("fenced: another process with this transactional id (which is also the group instance id) took over. "+
		"After a restart this happens once; if it repeats, two live instances share the transactional id (--transactional-id, the pod name by default) "+
		"and fence each other: give each its own", "transactional_id", m.txnID, "err", err)
}

func (m *metrics) SessionRebuilt(err error) {
	m.rebuilds.Inc()
	m.health.setAssigned(false)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setPartitions(nil, true)
}

func (m *metrics) Assigned(ps map[string][]int32) {
	m.rebalances.WithLabelValues("assigned").Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setPartitions(ps, false)
	m.health.setAssigned(true)
}

func (m *metrics) Revoked(ps map[string][]int32, lost bool) {
	kind := "revoked"
	if lost {
		kind = "lost"
	}
	m.rebalances.WithLabelValues(kind).Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	for t, parts := range ps {
		for _, p := range parts {
			delete(m.partitions[t], p)
			m.lag.DeleteLabelValues(t, strconv.Itoa(int(p)))
		}
	}
	m.assigned.Set(float64(m.count()))
	if lost {
		m.health.setAssigned(false)
	}
}

// setPartitions adds ps to the assignment, or clears it first when reset.
func (m *metrics) setPartitions(ps map[string][]int32, reset bool) {
	if reset {
		m.partitions = make(map[string]map[int32]bool)
		m.lag.Reset()
	}
	for t, parts := range ps {
		if m.partitions[t] == nil {
			m.partitions[t] = make(map[int32]bool)
		}
		for _, p := range parts {
			m.partitions[t][p] = true
		}
	}
	m.assigned.Set(float64(m.count()))
}

func (m *metrics) count() int {
	n := 0
	for _, ps := range m.partitions {
		n += len(ps)
	}
	return n
}

func (m *metrics) Heartbeat() { m.health.beat() }

// Authorization counts refusals and keeps the processor not ready while
// they last: without the permission it can do no work.
func (m *metrics) Authorization(f *txn.AuthorizationError) {
	if f == nil {
		m.authFailing.Set(0)
		m.health.setAuthorized(true)
		return
	}
	m.authFailures.WithLabelValues(f.Resource, f.Operation).Inc()
	m.authFailing.Set(1)
	m.health.setAuthorized(false)
	m.health.refused.Store(f.Error())
}

// Lag sets a partition's lag, if the partition is still assigned: a fetch
// from before a revoke must not bring its series back.
func (m *metrics) Lag(topic string, partition int32, lag int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.partitions[topic][partition] {
		m.lag.WithLabelValues(topic, strconv.Itoa(int(partition))).Set(float64(lag))
	}
}

// health is the state behind /healthz and /readyz.
type health struct {
	lastBeat atomic.Int64 // unix nanoseconds of the loop's last iteration
	// assigned is what /readyz reads: joined the group, got an
	// assignment, and not refused a permission it needs. Set it through
	// setAssigned and setAuthorized.
	assigned atomic.Bool
	draining atomic.Bool // shutting down
	started  atomic.Bool // the loop is running (topics checked)

	mu           sync.Mutex
	member       bool // joined the group and got an assignment
	unauthorized bool // the broker refuses a permission the loop needs

	refused atomic.Value // string: the last refused permission, for /readyz

	topicProblem atomic.Pointer[string] // a topic is missing: why, for /readyz
	startProblem atomic.Value           // string: why the start-up check last failed, for /readyz
}

// setTopicProblem records why the topics cannot be worked with ("" when
// they can) and reports whether that changed.
func (h *health) setTopicProblem(why string) bool {
	var p *string
	if why != "" {
		p = &why
	}
	old := h.topicProblem.Swap(p)
	return (old == nil) != (p == nil)
}

func (h *health) beat() { h.lastBeat.Store(time.Now().UnixNano()) }

func (h *health) setAssigned(ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.member = ok
	h.assigned.Store(h.member && !h.unauthorized)
}

func (h *health) setAuthorized(ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unauthorized = !ok
	h.assigned.Store(h.member && !h.unauthorized)
}

// notAuthorized says which permission the broker refuses, or "" while
// none is refused.
func (h *health) notAuthorized() string {
	h.mu.Lock()
	unauthorized := h.unauthorized
	h.mu.Unlock()
	if !unauthorized {
		return ""
	}
	why, _ := h.refused.Load().(string)
	if why == "" {
		why = "not authorized"
	}
	return why
}

func (h *health) ready() bool { return h.notReady() == "" }

// notReady says why the instance is not ready, or "" when it is: what
// /readyz answers and event_processor_ready shows.
func (h *health) notReady() string {
	switch {
	case h.draining.Load():
		return "draining"
	case !h.started.Load():
		if why, _ := h.startProblem.Load().(string); why != "" {
			return "waiting for the broker and topics: " + why
		}
		return "waiting for the broker and topics"
	case h.topicProblem.Load() != nil:
		return *h.topicProblem.Load()
	case !h.assigned.Load():
		if why := h.notAuthorized(); why != "" {
			return why + " (see the log for the ACL to grant)"
		}
		return "waiting for a partition assignment"
	}
	return ""
}
func (h *health) sinceBeat() time.Duration {
	return time.Since(time.Unix(0, h.lastBeat.Load()))
}
