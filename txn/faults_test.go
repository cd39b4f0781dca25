package txn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// ambiguousCommit makes the broker apply the nth EndTxn commit but answer it
// with UNKNOWN_SERVER_ERROR, as a broker that fails after writing the commit
// does. It forwards the request to kfake through a second client (pinned to
// the same EndTxn version) and sends the client an error in place of the
// answer. It reports whether it has fired.
func ambiguousCommit(t *testing.T, c *kfake.Cluster, nth int32) (fired func() bool) {
	t.Helper()
	const (
		armed = iota
		forwarding
		done
	)
	var (
		state   atomic.Int32
		commits atomic.Int32
	)
	c.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r := req.(*kmsg.EndTxnRequest)
		switch {
		case state.Load() != armed || !r.Commit:
			return nil, nil, false // the forwarded copy, or nothing to do: kfake answers
		case commits.Add(1) < nth:
			return nil, nil, false
		}
		state.Store(forwarding)
		fwdResp, fwdErr := forwardEndTxn(c, r, 0)
		if fwdErr == nil {
			fwdErr = kerr.ErrorForCode(fwdResp.ErrorCode)
		}
		if fwdErr != nil {
			t.Errorf("the forwarded EndTxn commit failed: %v", fwdErr)
		}
		state.Store(done)
		resp := r.ResponseKind().(*kmsg.EndTxnResponse)
		resp.ErrorCode = kerr.UnknownServerError.Code
		return resp, nil, true
	})
	return func() bool { return state.Load() == done }
}

// forwardEndTxn has c apply r, from inside c's control function for it: it
// sends a copy through a second client pinned to r's EndTxn version
// (SleepControl lets c serve the copy meanwhile), then waits hold before
// returning c's answer. The control function must let the copy through.
func forwardEndTxn(c *kfake.Cluster, r *kmsg.EndTxnRequest, hold time.Duration) (*kmsg.EndTxnResponse, error) {
	vs := kversion.Stable()
	vs.SetMaxKeyVersion(int16(kmsg.EndTxn), r.Version)
	fwd, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.MaxVersions(vs))
	if err != nil {
		return nil, fmt.Errorf("forwarding client: %w", err)
	}
	var resp *kmsg.EndTxnResponse
	c.SleepControl(func() {
		defer fwd.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cp := *r
		resp, err = cp.RequestWith(ctx, fwd)
		time.Sleep(hold)
	})
	return resp, err
}

// An EndTxn commit that the broker applies but answers with
// UNKNOWN_SERVER_ERROR makes franz-go retry as an abort and rewind to the
// offsets it last saw committed: End returns (false, nil) although the
// records and offsets are committed. The loop must not trust that rewind:
// every input must still appear exactly once in the read_committed output.
func TestAmbiguousCommitIsNotReprocessed(t *testing.T) {
	t.Parallel()
	const n = 3000
	c := newCluster(t)
	produceInput(t, c, inTopic, 0, n)
	fired := ambiguousCommit(t, c, 2)

	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.MaxRecords = 300 // several transactions, so the second commit is mid-stream
	start(t, cfg, identity)

	waitCommitted(t, c, n/3, 20*time.Second)
	if !fired() {
		t.Fatal("the ambiguous commit was never injected")
	}
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 10*time.Second), n)
	// The applied commit is reported as committed, so metrics that publish
	// on commit count every input once.
	if _, records := obs.count(Committed); records != n {
		t.Errorf("committed transactions hold %d records, want %d", records, n)
	}
	if obs.rebuilds.Load() < 1 {
		t.Errorf("the session was not rebuilt after the unconfirmed abort")
	}
}

func TestOffsetSpanJudge(t *testing.T) {
	t.Parallel()
	eo := func(o int64) kgo.EpochOffset { return kgo.EpochOffset{Epoch: -1, Offset: o} }
	span := offsetSpan{
		committed: map[string]map[int32]kgo.EpochOffset{"in": {0: eo(10)}},           // partition 1 has no commit yet
		heads:     map[string]map[int32]kgo.EpochOffset{"in": {0: eo(20), 1: eo(5)}}, // what End would commit
	}
	all := func(string, int32) bool { return true }
	only0 := func(_ string, p int32) bool { return p == 0 }
	for _, tc := range []struct {
		name   string
		broker map[string]map[int32]int64
		owned  func(string, int32) bool
		want   verdict
	}{
		{"at the last commit", map[string]map[int32]int64{"in": {0: 10, 1: -1}}, all, abortConfirmed},
		{"no commit returned at all", nil, only0, outcomeUnknown},
		{"at the transaction's offsets", map[string]map[int32]int64{"in": {0: 20, 1: 5}}, all, commitApplied},
		{"mixed", map[string]map[int32]int64{"in": {0: 20, 1: -1}}, all, outcomeUnknown},
		{"elsewhere", map[string]map[int32]int64{"in": {0: 15, 1: 5}}, all, outcomeUnknown},
		{"revoked partition ignored", map[string]map[int32]int64{"in": {0: 10, 1: 99}}, only0, abortConfirmed},
		{"nothing owned", map[string]map[int32]int64{"in": {0: 99}}, func(string, int32) bool { return false }, abortConfirmed},
	} {
		if got := span.judge(tc.broker, tc.owned); got != tc.want {
			t.Errorf("%s: got verdict %d, want %d", tc.name, got, tc.want)
		}
	}
}

// While the transaction coordinator answers InitProducerID with
// CONCURRENT_TRANSACTIONS, franz-go's Begin retries with a background
// context. The loop must keep reporting that it is alive, and a cancelled
// Run must still return within ShutdownTimeout, having left the group. Once
// the fault clears, a restart processes everything exactly once.
func TestShutdownWhileBeginBlocks(t *testing.T) {
	t.Parallel()
	const n = 300
	c := newCluster(t)
	produceInput(t, c, inTopic, 0, n)
	first := start(t, testConfig(t, c, "a", newRecorder()), identity)
	waitCommitted(t, c, n/3, 15*time.Second)
	first.stop(t)

	fault := c.Fault(kfake.Fault{
		Keys:  []kmsg.Key{kmsg.InitProducerID},
		TxnID: "a",
		Err:   kerr.ConcurrentTransactions,
		Count: -1,
	})
	t.Cleanup(fault.Remove)
	produceInput(t, c, inTopic, n, n)

	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.ShutdownTimeout = 2 * time.Second
	blocked := start(t, cfg, identity)
	if err := fault.Wait(t.Context(), 3); err != nil {
		t.Fatalf("waiting for Begin to retry InitProducerID: %v", err)
	}
	beats := obs.heartbeats.Load()
	time.Sleep(1500 * time.Millisecond)
	if obs.heartbeats.Load() <= beats {
		t.Errorf("no heartbeat while Begin waits for the coordinator")
	}

	begin := time.Now()
	blocked.cancel()
	bound := cfg.ShutdownTimeout + time.Second
	select {
	case err := <-blocked.done:
		close(blocked.done)
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
		if d := time.Since(begin); d > bound {
			t.Errorf("stopping took %s, want at most %s", d, bound)
		}
	case <-time.After(bound):
		t.Errorf("Run did not return within %s of cancellation while InitProducerID kept failing", bound)
		fault.Remove() // let it finish, so the test ends
		<-blocked.done
		close(blocked.done)
	}
	if gi := c.GroupInfo(group); gi != nil && len(gi.Members) != 0 {
		t.Errorf("the group still has %d members after the stop", len(gi.Members))
	}

	fault.Remove()
	start(t, testConfig(t, c, "a", newRecorder()), identity)
	waitCommitted(t, c, 2*n/3, 15*time.Second)
	assertExactlyOnce(t, readAll(t, c, outTopic, 2*n, false, 10*time.Second), 2*n)
}

// beatsPerSecond is how often the loop iterated during one second.
func beatsPerSecond(obs *recorder) int64 {
	before := obs.heartbeats.Load()
	time.Sleep(time.Second)
	return obs.heartbeats.Load() - before
}

// maxErrorPollsPerSecond bounds the polls of a loop whose every poll returns
// only errors: the backoff between them grows to a second.
const maxErrorPollsPerSecond = 30

// With every input partition answering NOT_LEADER_OR_FOLLOWER, each poll
// returns at once with only errors (KeepRetryableFetchErrors). The loop must
// back off rather than spin, and consume normally once the fault clears.
func TestErrorOnlyPollsBackOff(t *testing.T) {
	t.Parallel()
	const n = 300
	c := newCluster(t)
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Topic: inTopic, Err: kerr.NotLeaderForPartition, Count: -1})
	t.Cleanup(fault.Remove)
	obs := newRecorder()
	start(t, testConfig(t, c, "a", obs), identity)
	if err := fault.Wait(t.Context(), 3); err != nil {
		t.Fatalf("waiting for failing fetches: %v", err)
	}
	polls := beatsPerSecond(obs)
	t.Logf("%d polls in a second while every fetch fails", polls)
	if polls > maxErrorPollsPerSecond {
		t.Errorf("%d polls in a second while every fetch fails, want at most %d", polls, maxErrorPollsPerSecond)
	}
	fault.Remove()
	produceInput(t, c, inTopic, 0, n)
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 10*time.Second), n)
}

// A lost Read permission on the input topic (TOPIC_AUTHORIZATION_FAILED on
// every fetch) is not retriable, and the loop must neither spin on it nor
// hide it: it backs off, logs which permission is missing on which topic,
// and reports it; once the permission is back, it works again.
func TestLostTopicAuthorizationIsReported(t *testing.T) {
	t.Parallel()
	const n = 300
	c := newCluster(t)
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Topic: inTopic, Err: kerr.TopicAuthorizationFailed, Count: -1})
	t.Cleanup(fault.Remove)
	var logs syncBuffer
	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.Logger = testLogger(t, &logs)
	start(t, cfg, identity)
	if err := fault.Wait(t.Context(), 3); err != nil {
		t.Fatalf("waiting for failing fetches: %v", err)
	}
	polls := beatsPerSecond(obs)
	t.Logf("%d polls in a second while the topic is not authorized", polls)
	if polls > maxErrorPollsPerSecond {
		t.Errorf("%d polls in a second while the topic is not authorized, want at most %d", polls, maxErrorPollsPerSecond)
	}
	eventually(t, 5*time.Second, "a log line naming the missing permission", func() bool {
		s := logs.String()
		return strings.Contains(s, "not authorized") && strings.Contains(s, `operation=Read`) && strings.Contains(s, `resource=topic name=in`)
	})
	calls := obs.authorization()
	if len(calls) == 0 || calls[0] == nil {
		t.Fatalf("Authorization calls %v, want a failure first", calls)
	}
	if f := calls[0]; f.Resource != "topic" || f.Name != inTopic || f.Operation != "Read" || !errors.Is(f, kerr.TopicAuthorizationFailed) {
		t.Errorf("Authorization(%+v), want Read on topic %q", f, inTopic)
	}
	if len(calls) > 2*maxErrorPollsPerSecond {
		t.Errorf("%d Authorization calls in about a second: reported per poll without backoff", len(calls))
	}
	for _, f := range calls {
		if f == nil {
			t.Fatalf("authorization reported as restored while every fetch is refused")
		}
	}

	fault.Remove()
	produceInput(t, c, inTopic, 0, n)
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 10*time.Second), n)
	if calls := obs.authorization(); calls[len(calls)-1] != nil {
		t.Errorf("authorization not reported as restored after the fault cleared and input was processed")
	}
}

// The pause after an error-only poll grows to errPollBackoffMax and never
// outlasts the open transaction's interval.
func TestErrorPollPause(t *testing.T) {
	t.Parallel()
	var b pollBackoff
	var last time.Duration
	for range 10 {
		last = b.next()
	}
	if first := (&pollBackoff{}).next(); first != errPollBackoffMin || last != errPollBackoffMax {
		t.Errorf("pauses from %s to %s, want %s to %s", first, last, errPollBackoffMin, errPollBackoffMax)
	}
	for _, tc := range []struct {
		name string
		t    *batch
		want time.Duration
	}{
		{"no transaction", nil, time.Second},
		{"plenty of interval left", &batch{begun: time.Now()}, time.Second},
		{"interval nearly over", &batch{begun: time.Now().Add(-9500 * time.Millisecond)}, 500 * time.Millisecond},
		{"interval over", &batch{begun: time.Now().Add(-time.Minute)}, 0},
	} {
		got := tc.t.capWait(time.Second, 10*time.Second)
		if got > tc.want || got < tc.want-100*time.Millisecond {
			t.Errorf("%s: pause %s, want about %s", tc.name, got, tc.want)
		}
	}
}

// A refused group (no Read on it) is never reported as restored by the
// polls that return nothing between the refused joins: only an assignment
// shows the group works again.
func TestLostGroupAuthorizationDoesNotFlap(t *testing.T) {
	t.Parallel()
	const n = 100
	c := newCluster(t)
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.JoinGroup}, Err: kerr.GroupAuthorizationFailed, Count: -1})
	t.Cleanup(fault.Remove)
	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	start(t, cfg, identity)
	eventually(t, 10*time.Second, "the refused group reported", func() bool {
		calls := obs.authorization()
		return len(calls) > 0 && calls[0] != nil && calls[0].Resource == "group"
	})
	time.Sleep(3 * time.Second) // several refused joins and empty polls
	for i, f := range obs.authorization() {
		if f == nil {
			t.Fatalf("call %d: the group's authorization reported as restored while every join is refused", i)
		}
	}
	fault.Remove()
	produceInput(t, c, inTopic, 0, n)
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 15*time.Second), n)
	if calls := obs.authorization(); calls[len(calls)-1] != nil {
		t.Errorf("authorization not reported as restored once the group worked again")
	}
}

// slowEndTxnAnswers makes the broker apply every EndTxn at once but answer it
// only after delay, as a slow or distant link does: the request reaches the
// coordinator in time, its answer is on its way. Like ambiguousCommit, it
// forwards the request through a second client (pinned to the same EndTxn
// version) and holds the answer back. It returns how many EndTxns it slowed.
func slowEndTxnAnswers(t *testing.T, c *kfake.Cluster, delay time.Duration) (slowed func() int32) {
	t.Helper()
	var (
		forwarding atomic.Bool
		n          atomic.Int32
	)
	c.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !forwarding.CompareAndSwap(false, true) {
			return nil, nil, false // the forwarded copy: kfake answers it
		}
		defer forwarding.Store(false)
		resp, fwdErr := forwardEndTxn(c, req.(*kmsg.EndTxnRequest), delay)
		if fwdErr != nil {
			t.Errorf("the forwarded EndTxn failed: %v", fwdErr)
			return nil, nil, false
		}
		n.Add(1)
		return resp, nil, true
	})
	return n.Load
}

// An End whose EndTxn the coordinator applies in time but answers after more
// than the transaction timeout (a slow link: with every answer a second late,
// End's produce, TxnOffsetCommit, heartbeat and EndTxn round trips add up to
// more than a 5s timeout) is a commit, not a failure. End was bounded by
// TransactionTimeout: every such End failed, the session was rebuilt each
// time, and the processor reported no commit for as long as the link
// stayed slow, although the broker committed each transaction.
func TestSlowEndTxnAnswerCommits(t *testing.T) {
	t.Parallel()
	const n = 300
	c := newCluster(t)
	produceInput(t, c, inTopic, 0, n)
	const timeout = 1500 * time.Millisecond
	slowed := slowEndTxnAnswers(t, c, timeout+timeout/3)

	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.TransactionTimeout = timeout
	cfg.MaxRecords = n / 3 // several transactions
	start(t, cfg, identity)

	waitCommitted(t, c, n/3, 30*time.Second)
	eventually(t, 30*time.Second, "three commits reported", func() bool {
		txns, _ := obs.count(Committed)
		return txns >= 3
	})
	if slowed() < 3 {
		t.Errorf("%d EndTxn answers slowed, want at least 3", slowed())
	}
	if failed, _ := obs.count(Failed); failed > 0 || obs.rebuilds.Load() > 0 {
		t.Errorf("%d transactions failed and the session was rebuilt %d times, want none: the broker answered every End", failed, obs.rebuilds.Load())
	}
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 10*time.Second), n)
}

// concurrentTransactionsOnProduce answers every other transactional produce
// request with CONCURRENT_TRANSACTIONS on every partition, as a partition
// leader does under transaction.version 2 when a transaction's first records
// arrive while the coordinator is still writing the previous transaction's
// markers. It returns how many it answered so.
func concurrentTransactionsOnProduce(c *kfake.Cluster) (injected func() int32) {
	var seen, n atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r := req.(*kmsg.ProduceRequest)
		if r.TransactionID == nil || seen.Add(1)%2 == 0 {
			return nil, nil, false
		}
		resp := r.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.ConcurrentTransactions.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		n.Add(1)
		return resp, nil, true
	})
	return n.Load
}

// A produce answered CONCURRENT_TRANSACTIONS is retried after the client's
// next metadata refresh, which kgo spaces by its metadata min age: 5s by
// default. Every such answer held the transaction's flush for up to 5s, an
// End on a slow link then ran past its bound, and the session was rebuilt:
// after a leader move on a link slowed to a second a round trip, nothing
// committed for 45s. Six transactions that each meet it once must commit
// in well under one default min age apiece.
func TestConcurrentTransactionsProduceRetriedQuickly(t *testing.T) {
	t.Parallel()
	const n, txns = 600, 6
	c := newCluster(t)
	produceInput(t, c, inTopic, 0, n)
	injected := concurrentTransactionsOnProduce(c)

	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.MaxRecords = n / txns
	start(t, cfg, identity)

	// 6 answers at up to 5s each took about 30s; retried after a short
	// metadata refresh they take a few seconds in all.
	waitCommitted(t, c, n/3, 12*time.Second)
	if injected() < txns/2 {
		t.Errorf("%d produces answered CONCURRENT_TRANSACTIONS, want at least %d", injected(), txns/2)
	}
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 10*time.Second), n)
}
