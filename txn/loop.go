package txn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// TransformFunc turns one consumed record into the records to produce
// (usually one). It appends to out and returns it; it must not retain in or
// out. It runs on the loop goroutine. Every record it returns must have its
// Topic set.
type TransformFunc func(in *kgo.Record, out []*kgo.Record) []*kgo.Record

// Loop is the exactly-once consume-transform-produce loop. Create it with New
// and run it with Run, once.
type Loop struct {
	cfg  Config
	fn   TransformFunc
	log  *slog.Logger
	obs  Observer
	opts []kgo.Opt

	out      []*kgo.Record // reused for every TransformFunc call
	warned   *rateLimiter  // fetch and group errors, logged at most every warnEvery per kind
	assigned atomic.Bool   // the current session has had an assignment
	owned    ownedParts    // the current session's assignment (assignment.go)
	synced   syncedAssignment
	member   atomic.Bool // in the group with an assignment, as far as the loop knows

	// rebalanced is set by a revoke or loss that makes GroupTransactSession
	// abort the next End; end swaps it out just before End, so only a
	// rebalance that came before End explains an abort.
	rebalanced atomic.Bool

	authFailing authSource // where the authorization failure being reported was seen; 0 for none (loop goroutine only)

	cancelSess context.CancelFunc // cancels the current session's client context (loop goroutine only)

	rebuild atomic.Pointer[RebuildRequest] // asked for by Rebuild, taken between transactions
}

// RebuildRequest is the error a session ends with when Loop.Rebuild asked
// for a new one.
type RebuildRequest struct{ Reason error }

func (r *RebuildRequest) Error() string { return "rebuild requested: " + r.Reason.Error() }
func (r *RebuildRequest) Unwrap() error { return r.Reason }

// Rebuild asks the loop to close its session and build a new one (calling
// Config.SessionOpts again) as soon as no transaction is open: for what a
// client cannot notice by itself, such as a topic deleted and re-created
// under a new topic id, or a changed record size limit. It does not block;
// a second request before the first is taken replaces it. The open
// transaction, if any, ends as usual first; nothing is lost or repeated.
func (l *Loop) Rebuild(reason error) { l.rebuild.Store(&RebuildRequest{Reason: reason}) }

// warnEvery is how often one kind of fetch or group error is logged.
const warnEvery = 30 * time.Second

// New validates cfg, fills in its defaults and returns a Loop that calls fn
// for every consumed record. Errors wrap ErrInvalidConfig and name the field.
func New(cfg Config, fn TransformFunc) (*Loop, error) {
	if fn == nil {
		return nil, fmt.Errorf("txn: nil TransformFunc: %w", ErrInvalidConfig)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &Loop{
		cfg:    cfg,
		fn:     fn,
		log:    cfg.Logger,
		obs:    cfg.Observer,
		warned: newRateLimiter(warnEvery),
	}
	// kgo checks these itself (address syntax, id length); check them one
	// at a time so the error names our field, then all together.
	if err := kgo.ValidateOpts(kgo.SeedBrokers(cfg.Brokers...)); err != nil {
		return nil, &ConfigError{Field: "Brokers", Reason: "rejected by kgo", Err: err}
	}
	if err := kgo.ValidateOpts(kgo.TransactionalID(cfg.TransactionalID)); err != nil {
		return nil, &ConfigError{Field: "TransactionalID", Reason: "rejected by kgo", Err: err}
	}
	if err := kgo.ValidateOpts(kgo.ConsumerGroup(cfg.Group)); err != nil {
		return nil, &ConfigError{Field: "Group", Reason: "rejected by kgo", Err: err}
	}
	l.opts = l.clientOpts()
	if err := kgo.ValidateOpts(l.opts...); err != nil {
		return nil, &ConfigError{Field: "ClientOpts", Reason: "rejected by kgo", Err: err}
	}
	return l, nil
}

func (l *Loop) clientOpts() []kgo.Opt {
	kgoLog := slog.New(kgoHandler{l.log.Handler()}).With("component", "kgo")
	opts := []kgo.Opt{
		kgo.SeedBrokers(l.cfg.Brokers...),
		kgo.ConsumerGroup(l.cfg.Group),
		kgo.ConsumeTopics(l.cfg.Topics...),
		kgo.TransactionalID(l.cfg.TransactionalID),
		kgo.TransactionTimeout(l.cfg.TransactionTimeout),
		// The default is read_uncommitted: we would consume aborted records.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers are returned as records (the transform
		// never sees them), so that the consumer's position, the lag
		// and the committed offsets move past an upstream producer's
		// markers and aborted records: kgo commits the offset after the
		// last record it returned, and otherwise would leave the group
		// behind by the whole tail forever (as kadm's Lag shows).
		kgo.KeepControlRecords(),
		// Without this, kgo strips UNKNOWN_TOPIC_OR_PARTITION from fetches
		// and a missing input topic is silent; we log it (rate-limited).
		kgo.KeepRetryableFetchErrors(),
		kgo.WithLogger(kslog.New(kgoLog)),
		// These run inside the session's wrappers, which hold the lock End
		// needs: they only report, they never call End.
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			l.assignedCallback(m)
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			l.log.Info("partitions revoked", "partitions", m)
			l.owned.remove(m)
			if len(m) > 0 {
				// An empty cooperative revoke does not fail the session.
				l.rebalanced.Store(true)
			}
			l.obs.Revoked(m, false)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			l.lostCallback(m)
		}),
		// The session swallows repeated revokes and losses: these two
		// see them anyway (assignment.go).
		kgo.Balancers(syncTracking{kgo.CooperativeStickyBalancer(), &l.synced}),
		kgo.WithHooks(groupLossHook{l}),
		// AllowAutoTopicCreation is deliberately absent: a missing input
		// topic is waited for, a missing output topic fails its produces.
		kgo.MetadataMinAge(metadataMinAge),
	}
	opts = append(opts, l.cfg.ClientOpts...)
	// After ClientOpts, so it always holds: a transaction's produces must
	// never wait for buffer room. Room is only freed by records that
	// finish, which while a broker is down is never, and the loop would
	// hang in Produce instead of reaching End (bounded by
	// TransactionTimeout) and rebuilding.
	return append(opts, kgo.MaxBufferedRecords(producerBuffer(l.cfg.MaxRecords)))
}

// metadataMinAge spaces the client's metadata refreshes (kgo's default is
// 5s). kgo retries a produce answered with a retriable error only after its
// next refresh, and under transaction.version 2 a transaction's first
// produce is answered CONCURRENT_TRANSACTIONS whenever it reaches a leader
// before the coordinator has finished writing the previous transaction's
// markers, which a moved leader or a slow broker makes likely. With 5s
// every such answer held the transaction that long; on a slow link that was
// enough to run End past its bound. Java's producer refreshes after 100ms,
// backing off to 1s.
const metadataMinAge = 250 * time.Millisecond

// kgoMaxBufferedRecords is kgo's default for kgo.MaxBufferedRecords.
const kgoMaxBufferedRecords = 50000

// outputsPerInput is the headroom of the producer's buffer over MaxRecords:
// a transform may return several records per input (the processor returns
// one). Buffered records hold no memory until they are produced.
const outputsPerInput = 4

// producerBuffer is the producer's buffered-record limit for a batch bound
// of maxRecords inputs: never below kgo's default.
func producerBuffer(maxRecords int) int {
	return max(kgoMaxBufferedRecords, outputsPerInput*maxRecords)
}

// Run runs the loop until ctx is cancelled, then finishes the open
// transaction (committing it if every produce succeeded), leaves the group
// and returns nil, all within Config.ShutdownTimeout. Broker trouble never
// makes Run return: a failed session is closed and rebuilt with backoff. Run
// returns an error only if the session cannot be created at all, which New's
// validation makes unlikely.
func (l *Loop) Run(ctx context.Context) error {
	// hardStop bounds the work that must outlive ctx (the last produces,
	// ending the open transaction, leaving the group): it is cancelled
	// ShutdownTimeout after ctx is, so shutdown never takes longer, and a
	// produce blocked on a dead broker cannot hold it forever. Produces are
	// not cancelled by ctx itself: a cancelled record would turn the final
	// commit into an abort.
	hardStop, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(l.cfg.ShutdownTimeout, cancelHard) })
	defer stopAfter()

	var bo backoff
	for {
		if ctx.Err() != nil {
			return nil
		}
		l.assigned.Store(false)
		l.owned.reset()
		l.synced.reset()
		l.member.Store(false)
		l.rebalanced.Store(false)
		// The session's own context lets closeSession end a Close that
		// does not finish in time (see there).
		sessCtx, cancelSess := context.WithCancel(context.WithoutCancel(ctx))
		l.cancelSess = cancelSess
		opts := append(l.opts[:len(l.opts):len(l.opts)], kgo.WithContext(sessCtx))
		if l.cfg.SessionOpts != nil {
			opts = append(opts, l.cfg.SessionOpts()...)
		}
		sess, err := kgo.NewGroupTransactSession(opts...)
		if err != nil {
			cancelSess()
			return fmt.Errorf("txn: creating the transaction session: %w", err)
		}
		l.log.Info("transaction session started", "group", l.cfg.Group, "transactional_id", l.cfg.TransactionalID, "topics", l.cfg.Topics)

		err = l.runSession(ctx, hardStop, sess, &bo)
		if err == nil {
			return nil // stopped gracefully; runSession closed the session
		}

		// The open transaction, if any, is not ended here: the next
		// session's InitProducerID under the same transactional id fences
		// this producer and aborts it.
		l.closeSession(hardStop, sess)
		if e := l.authorizationError(err, "", false); e != nil {
			l.reportUnauthorized(e, authFromTxn)
		}
		l.obs.SessionRebuilt(err)
		if isFenced(err) {
			l.obs.Fenced(err)
		}
		if rr := (*RebuildRequest)(nil); errors.As(err, &rr) {
			l.log.Info("closed the transaction session to build a new one", "reason", rr.Reason)
			continue
		}
		d := bo.next()
		l.log.Warn("transaction session failed; closed it, rebuilding after backoff", "err", err, "backoff", d)
		if !l.sleep(ctx, d) {
			return nil
		}
	}
}

// runSession polls, transforms, produces and ends transactions on one
// session. It returns nil after a graceful stop (the session closed), or the
// error that requires a new session (the caller closes this one).
func (l *Loop) runSession(ctx, hardStop context.Context, sess *kgo.GroupTransactSession, bo *backoff) error {
	var (
		t       *batch      // the open transaction with its records, nil between transactions
		begun   bool        // Begin was called and End not yet
		fenced  bool        // this session has called Begin at least once
		aborts  int         // transactions aborted in a row
		pollBo  pollBackoff // between polls that return only errors
		beginFn = func() error {
			err := l.await(ctx, "beginning a transaction", sess.Begin)
			switch {
			case errors.Is(err, errStopping):
				return err
			case err != nil:
				l.obs.TransactionEnded(Failed, 0, 0)
				return fmt.Errorf("beginning a transaction: %w", err)
			}
			begun, fenced = true, true
			return nil
		}
	)
	for {
		l.obs.Heartbeat()
		if ctx.Err() != nil {
			l.shutdown(hardStop, sess, t)
			return nil
		}
		if t == nil {
			if rr := l.rebuild.Swap(nil); rr != nil {
				return rr
			}
		}

		// Begin initializes the producer id, which fences any earlier
		// session or process with our transactional id and aborts its
		// open transaction. Until then, that transaction's offsets keep
		// the group's offset fetch UNSTABLE_OFFSET_COMMIT, so our first
		// records would wait for its timeout. Begin as soon as the group
		// has assigned us partitions (the broker is reachable then, so
		// Begin does not stall the loop), not when records arrive.
		if !fenced && l.assigned.Load() {
			if err := beginFn(); errors.Is(err, errStopping) {
				l.shutdown(hardStop, sess, t)
				return nil
			} else if err != nil {
				return err
			}
		}

		pollCtx, cancel := context.WithTimeout(ctx, t.pollTimeout(l.cfg.MaxInterval, l.cfg.Linger))
		fetches := sess.PollRecords(pollCtx, t.room(l.cfg.MaxRecords))
		cancel()
		errs, err := l.checkFetchErrors(fetches)
		if err != nil {
			return err
		}
		// A poll shows a refused permission is back only when it fetched:
		// with no assignment (a refused group) it returns nothing between
		// the refused joins, and would report "authorized" every time.
		if !errs.authz && (!errs.any || fetches.NumRecords() > 0) && l.assigned.Load() {
			l.reportAuthorized(authFromPoll)
		}
		if errs.any && fetches.NumRecords() == 0 {
			// With KeepRetryableFetchErrors kgo returns such a poll
			// at once: without a pause the loop would spin. The
			// pause never outlasts the open transaction's interval.
			if d := t.capWait(pollBo.next(), l.cfg.MaxInterval); d > 0 {
				l.sleep(ctx, d)
			}
		} else {
			pollBo.reset()
		}

		// Every polled record must be produced in the open transaction:
		// End commits the offsets of everything polled. The one exception
		// is a poll that returned as we stop with no transaction open;
		// those records are simply not committed. A poll of only
		// transaction markers opens a transaction too, to commit the
		// offsets past them.
		if n := fetches.NumRecords(); n > 0 && (t != nil || ctx.Err() == nil) {
			if data := dataRecords(fetches); data > 0 {
				l.obs.Consumed(data)
			}
			l.reportLag(fetches)
			if !begun {
				if err := beginFn(); errors.Is(err, errStopping) {
					l.shutdown(hardStop, sess, t) // t is nil: nothing is open yet
					return nil
				} else if err != nil {
					return err
				}
			}
			if t == nil {
				t = &batch{begun: time.Now()}
			}
			t.lastInput = time.Now()
			l.produce(hardStop, sess, t, fetches)
		}

		if t == nil || ctx.Err() != nil {
			continue // nothing open, or shutdown ends it at the top
		}
		t.drained = drained(sess.Client().BufferedFetchRecords(), fetches)
		if t.records < l.cfg.MaxRecords && time.Since(t.begun) < l.cfg.MaxInterval && !t.failed.Load() && !t.lingered(l.cfg.Linger) {
			continue
		}

		endCtx, cancelEnd := context.WithTimeout(hardStop, endBound(l.cfg.TransactionTimeout))
		o, err := l.end(endCtx, sess, t)
		cancelEnd()
		t, begun = nil, false
		switch {
		case errors.Is(err, errAbortedProduce):
			// Retrying at once would hot-loop on a record that can
			// never be produced; back off instead. Shutdown during
			// the sleep finds nothing open.
			l.sleep(ctx, bo.next())
		case err != nil:
			return err
		case o == Committed:
			bo.reset()
			aborts = 0
		default:
			// One abort after a rebalance is routine; more in a row
			// mean the coordinator is struggling: do not hammer it
			// with the same batch.
			if aborts++; aborts > 1 {
				l.sleep(ctx, bo.next())
			}
		}
	}
}

// endBound bounds one End (flush, offsets, heartbeat, EndTxn) for a
// transaction timeout of txnTimeout: twice it. The broker itself aborts a
// transaction open longer than txnTimeout, so waiting longer never commits
// what it should not; what the bound is for is a broker that never
// answers. It must not be txnTimeout itself: on a slow link End's round
// trips (with every answer a second late, four of them) can reach the
// coordinator in time and still come back after txnTimeout. End then
// failed although the broker had committed, the session was rebuilt, and
// the next End on the same link did the same, with nothing reported
// committed for as long as the link stayed slow.
func endBound(txnTimeout time.Duration) time.Duration { return 2 * txnTimeout }

// produce transforms every polled record and produces its outputs into t.
func (l *Loop) produce(ctx context.Context, sess *kgo.GroupTransactSession, t *batch, fetches kgo.Fetches) {
	out := l.out[:0]
	fetches.EachRecord(func(r *kgo.Record) {
		if r.Attrs.IsControl() {
			return // a transaction marker: only its offset is committed
		}
		t.records++
		if t.failed.Load() {
			return // the transaction aborts; producing more is wasted work
		}
		out = l.fn(r, out[:0])
		for _, rec := range out {
			t.pending.Add(1)
			sess.Produce(ctx, rec, t.promise)
		}
	})
	clear(out) // the transform must not see its old records again
	l.out = out[:0]
}

// end ends t: it flushes, decides commit or abort from the produce results,
// and calls End. ctx must not be cancelled by shutdown, only bounded.
func (l *Loop) end(ctx context.Context, sess *kgo.GroupTransactSession, t *batch) (Outcome, error) {
	start := time.Now()
	try := kgo.TryCommit
	if !t.failed.Load() {
		// End flushes too, but then commits whatever was produced, even
		// after a failed produce. Flush first so a failure during the
		// flush turns the commit into an abort.
		if err := sess.Client().Flush(ctx); err != nil {
			l.obs.TransactionEnded(Failed, t.records, time.Since(start))
			return Failed, fmt.Errorf("flushing the transaction's records: %w", err)
		}
		// Flush does not wait for records that failed before being
		// buffered (e.g. too large); their promises may still be due.
		if err := t.wait(ctx); err != nil {
			l.obs.TransactionEnded(Failed, t.records, time.Since(start))
			return Failed, fmt.Errorf("waiting for produce results: %w", err)
		}
	}
	produceErr := t.firstErr()
	if produceErr != nil {
		try = kgo.TryAbort
	}

	// What End would commit, and where an abort rewinds to, to check an
	// abort against the broker below.
	cl := sess.Client()
	span := offsetSpan{committed: cl.CommittedOffsets(), heads: cl.UncommittedOffsets()}
	rebalanced := l.rebalanced.Swap(false)
	committed, err := sess.End(ctx, try)
	d := time.Since(start)
	switch {
	case err != nil:
		l.obs.TransactionEnded(Failed, t.records, d)
		return Failed, fmt.Errorf("ending the transaction: %w", err)
	case committed:
		l.obs.TransactionEnded(Committed, t.records, d)
		l.log.Debug("transaction committed", "records", t.records, "end_duration", d)
		l.reportAuthorized(authFromTxn)
		return Committed, nil
	case produceErr != nil:
		l.obs.TransactionEnded(Aborted, t.records, d)
		if e := l.authorizationError(produceErr, t.firstErrTopic(), true); e != nil {
			l.reportUnauthorized(e, authFromTxn)
		}
		l.log.Warn("transaction aborted because a produce failed; its input will be polled again",
			"records", t.records, "err", produceErr)
		return Aborted, errAbortedProduce
	case rebalanced:
		l.obs.TransactionEnded(Aborted, t.records, d)
		l.log.Info("transaction aborted by a rebalance; polling again from the last commit", "records", t.records)
		return Aborted, nil
	default:
		return l.confirmAbort(ctx, sess, t, span, start)
	}
}

// shutdown ends the open transaction, if any, and closes the session, all
// before hardStop, which ShutdownTimeout after Run's context ended cancels.
func (l *Loop) shutdown(hardStop context.Context, sess *kgo.GroupTransactSession, t *batch) {
	if t != nil {
		o, err := l.end(hardStop, sess, t)
		if err != nil && o != Committed && !errors.Is(err, errAbortedProduce) {
			l.log.Warn("could not end the open transaction on shutdown; it will be aborted when this transactional id is next used or times out",
				"records", t.records, "err", err)
		} else {
			l.log.Info("ended the open transaction on shutdown", "outcome", o, "records", t.records)
		}
	}
	l.closeSession(hardStop, sess)
	l.log.Info("transaction session closed")
}

// closeSession leaves the group and closes the session, within
// ShutdownTimeout and before hardStop. Close alone would leave the group
// with the client's own context, which nothing bounds; a member that just
// disappears keeps its partitions from the others until its session times
// out.
func (l *Loop) closeSession(hardStop context.Context, sess *kgo.GroupTransactSession) {
	ctx, cancel := context.WithTimeout(hardStop, l.cfg.ShutdownTimeout)
	defer cancel()
	if err := sess.Client().LeaveGroupContext(ctx); err != nil {
		l.log.Warn("leaving the group did not complete", "err", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sess.Close()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// Close waits for the group's manage goroutine, which may be
		// waiting on a JoinGroup that the broker holds until the
		// rebalance completes (up to the rebalance timeout, 60s), on the
		// client's context: cancelling it fails that request, so the
		// abandoned Close finishes now rather than piling up clients,
		// goroutines and connections over rebuilds.
		l.log.Warn("closing the transaction session did not finish in time; cancelling its requests and continuing without waiting")
	}
	if l.cancelSess != nil {
		l.cancelSess()
	}
}

// isFenced reports whether err says another producer or group member with
// our transactional id (and instance id) took over.
func isFenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) || errors.Is(err, kerr.FencedInstanceID)
}

// errStopping is await's answer when Run's context ends first.
var errStopping = errors.New("stopping")

// await runs fn (a call that franz-go does not let a context bound) on its
// own goroutine and waits for it, reporting Heartbeat meanwhile: waiting on
// the broker is not being wedged. It logs a warning every TransactionTimeout
// that fn has not returned. If ctx ends first, await returns errStopping
// without waiting: fn is abandoned, and the caller must close the session,
// which ends it.
//
// Begin is such a call: BeginTransaction initializes the producer id under
// context.Background() (kgo/txn.go: maybeRecoverProducerID), and
// doInitProducerID retries CONCURRENT_TRANSACTIONS for as long as the
// coordinator answers it (doWithConcurrentTransactions), ending early only
// when the client closes.
func (l *Loop) await(ctx context.Context, what string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	start := time.Now()
	beat := time.NewTicker(idlePollTimeout)
	defer beat.Stop()
	slow := time.NewTicker(l.cfg.TransactionTimeout)
	defer slow.Stop()
	stopping, grace := ctx.Done(), (<-chan time.Time)(nil)
	for {
		select {
		case err := <-done:
			return err
		case <-stopping:
			// A call that completes soon still lets the records polled
			// before the stop commit; one that does not is abandoned
			// with half of the shutdown budget left for leaving the
			// group.
			stopping, grace = nil, time.After(l.cfg.ShutdownTimeout/2)
		case <-grace:
			l.log.Warn(what+" was still waiting for the broker at shutdown; abandoning it and closing the session", "waited", time.Since(start).Round(time.Millisecond))
			return errStopping
		case <-beat.C:
			l.obs.Heartbeat()
		case <-slow.C:
			l.log.Warn(what+" is taking long: the transaction coordinator keeps answering CONCURRENT_TRANSACTIONS (an earlier transaction of this transactional id is still completing) or cannot be reached; still waiting",
				"waited", time.Since(start).Round(time.Second), "transactional_id", l.cfg.TransactionalID)
		}
	}
}

// errAbortedProduce marks an abort caused by a failed produce; runSession
// turns it into a backoff, not a rebuild.
var errAbortedProduce = errors.New("aborted after a failed produce")

// pollErrors is what checkFetchErrors saw in a poll.
type pollErrors struct {
	any   bool // an error other than the poll's own deadline or shutdown
	authz bool // among them, a missing permission
}

// checkFetchErrors logs and reports what a poll reported and returns an
// error if the session must be rebuilt.
func (l *Loop) checkFetchErrors(fetches kgo.Fetches) (pollErrors, error) {
	var (
		fatal    error
		errs     pollErrors
		reported map[AuthorizationError]bool // once per permission per poll, not per partition
	)
	now := time.Now()
	fetches.EachError(func(topic string, partition int32, err error) {
		var (
			key   string
			level = slog.LevelWarn
			msg   string
		)
		var groupErr *kgo.ErrGroupSession
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return // our own poll bound, or shutdown
		case errors.Is(err, kgo.ErrClientClosed):
			fatal = err
			return
		}
		errs.any = true
		if e := l.authorizationError(err, topic, false); e != nil {
			errs.authz = true
			if k := (AuthorizationError{Resource: e.Resource, Name: e.Name, Operation: e.Operation}); !reported[k] {
				if reported == nil {
					reported = make(map[AuthorizationError]bool)
				}
				reported[k] = true
				l.reportUnauthorized(e, authFromPoll)
			}
			return
		}
		switch {
		case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
			key, msg = "missing:"+topic, "input topic does not exist or is not visible to this client; waiting for it (topics are not auto-created)"
		case errors.Is(err, kerr.FencedInstanceID):
			// Another member joined with our instance id (our
			// transactional id): kgo keeps trying to join, and the loop
			// does not take the membership back, so that a zombie stays
			// out; the observer says so loudly.
			if ok, _ := l.warned.allow("fenced-instance", now); ok {
				l.obs.Fenced(err)
			}
			return
		case errors.As(err, &groupErr):
			key, msg = "group", "consumer group session error; kgo rejoins on its own"
		case kerr.IsRetriable(err):
			key, level, msg = "retriable:"+topic, slog.LevelDebug, "retriable fetch error"
		default:
			key, level, msg = "fetch:"+topic+":"+errKind(err), slog.LevelError, "fetch error"
		}
		if ok, suppressed := l.warned.allow(key, now); ok {
			l.log.Log(context.Background(), level, msg, "topic", topic, "partition", partition, "err", err, "suppressed_since_last", suppressed)
		}
	})
	if fatal != nil {
		return errs, fmt.Errorf("polling: %w", fatal)
	}
	return errs, nil
}

// errKind names err's kind without its details, to key the rate limiter on
// something that does not grow without bound.
func errKind(err error) string {
	if ke, ok := errors.AsType[*kerr.Error](err); ok {
		return ke.Message
	}
	return fmt.Sprintf("%T", err)
}

// dataRecords counts the polled records that are not transaction markers.
func dataRecords(fetches kgo.Fetches) int {
	n := 0
	fetches.EachRecord(func(r *kgo.Record) {
		if !r.Attrs.IsControl() {
			n++
		}
	})
	return n
}

// reportLag reports HighWatermark minus the next offset to consume, which,
// since markers are returned as records, is past the markers and aborted
// records that precede the last one polled: what kadm's Lag computes once
// the transaction commits.
func (l *Loop) reportLag(fetches kgo.Fetches) {
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 || p.HighWatermark < 0 {
			return
		}
		next := p.Records[len(p.Records)-1].Offset + 1
		l.obs.Lag(p.Topic, p.Partition, max(p.HighWatermark-next, 0))
	})
}

// drained reports whether a poll left no input to read right now: nothing is
// buffered in the client (buffered is its BufferedFetchRecords), and every partition the poll returned records from
// was read up to the last stable offset its fetch saw (the high watermark
// where the broker sent none), which is as far as a read_committed consumer
// can read. A poll that returned no records waited for input that did not
// come. Partitions not in the poll may have a fetch in flight; their records
// go into the next transaction.
func drained(buffered int64, fetches kgo.Fetches) bool {
	if buffered > 0 {
		return false
	}
	caughtUp := true
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		end := p.LastStableOffset
		if end < 0 {
			end = p.HighWatermark
		}
		if p.Records[len(p.Records)-1].Offset+1 < end {
			caughtUp = false
		}
	})
	return caughtUp
}

// batch is one open transaction.
type batch struct {
	begun     time.Time
	lastInput time.Time // when the last poll that returned records did
	drained   bool      // the last poll found no more input (see drained)
	records   int       // input records polled into this transaction

	pending  sync.WaitGroup // produce promises not yet called
	failed   atomic.Bool    // any produce failed
	mu       sync.Mutex
	err      error  // the first produce error
	errTopic string // the topic of its record
}

// promise is the produce promise of every record in the batch. kgo calls
// promises serially on its own goroutine.
func (t *batch) promise(r *kgo.Record, err error) {
	if err != nil {
		t.mu.Lock()
		if t.err == nil {
			t.err = err
			if r != nil {
				t.errTopic = r.Topic
			}
		}
		t.mu.Unlock()
		t.failed.Store(true)
	}
	t.pending.Done()
}

func (t *batch) firstErr() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

func (t *batch) firstErrTopic() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.errTopic
}

// wait waits for every promise, or for ctx.
func (t *batch) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		t.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pollTimeout is how long the next poll may wait: the rest of the open
// transaction's interval, and once its input is drained, no longer than the
// rest of its linger; idlePollTimeout with none open.
func (t *batch) pollTimeout(maxInterval, linger time.Duration) time.Duration {
	if t == nil {
		return idlePollTimeout
	}
	d := maxInterval - time.Since(t.begun)
	if t.drained {
		d = min(d, linger-time.Since(t.lastInput))
	}
	return max(d, time.Millisecond)
}

// lingered reports whether t's input is drained and has been for linger
// since its last records: time to commit without waiting out the interval.
func (t *batch) lingered(linger time.Duration) bool {
	return t.drained && time.Since(t.lastInput) >= linger
}

// capWait bounds a pause to what is left of the open transaction's interval,
// so that the transaction still ends in time; with none open, d stands.
func (t *batch) capWait(d, maxInterval time.Duration) time.Duration {
	if t == nil {
		return d
	}
	return min(d, max(maxInterval-time.Since(t.begun), 0))
}

// room is how many records the next poll may return.
func (t *batch) room(maxRecords int) int {
	if t == nil {
		return maxRecords
	}
	return max(maxRecords-t.records, 1)
}

// backoff is exponential with jitter, from backoffMin to backoffMax.
type backoff struct{ fails int }

func (b *backoff) next() time.Duration {
	d := backoffMax
	if b.fails < 16 && backoffMin<<b.fails < backoffMax {
		d = backoffMin << b.fails
	}
	b.fails++
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (b *backoff) reset() { b.fails = 0 }

// pollBackoff is the pause after a poll that returned only errors: doubling
// from errPollBackoffMin to errPollBackoffMax, reset by a poll that did not.
type pollBackoff struct{ d time.Duration }

func (b *pollBackoff) next() time.Duration {
	b.d = min(max(2*b.d, errPollBackoffMin), errPollBackoffMax)
	return b.d
}

func (b *pollBackoff) reset() { b.d = 0 }

// sleep waits d or until ctx is done, reporting whether it slept the full d.
// It keeps reporting Heartbeat: backing off is not being wedged.
func (l *Loop) sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	tick := time.NewTicker(idlePollTimeout)
	defer tick.Stop()
	for {
		select {
		case <-tm.C:
			return true
		case <-ctx.Done():
			return false
		case <-tick.C:
			l.obs.Heartbeat()
		}
	}
}
