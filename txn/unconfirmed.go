package txn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// An abort that End reports may be a commit the broker applied. When EndTxn
// commit gets an answer that leaves its outcome unknown (UNKNOWN_SERVER_ERROR,
// a transport error), franz-go (kgo/txn.go, GroupTransactSession.End) retries
// as an abort; EndTransaction turns that retry into a producer id reload that
// fence-aborts only what is still open, and End rewinds the consumer to the
// offsets it last saw committed, returning (false, nil). If the broker had
// applied the commit, polling from there again duplicates the committed
// batch, and SetOffsets cannot repair it: it moves the fetch position but not
// the session's idea of its committed offsets, which the next abort rewinds to.
//
// So an abort that neither a rebalance nor a failed produce explains is
// checked against the broker: the group's committed offsets are read back
// (RequireStable, so after the transaction has completed) for the partitions
// the transaction would have committed. Offsets still at the session's last
// commit confirm the abort; anything else (the transaction's own offsets: the
// commit was applied; or neither) means the session's view is stale, and the
// session is rebuilt: the new one reads its starting offsets from the broker.

// errStaleSession marks an End whose abort the broker did not confirm;
// runSession rebuilds the session.
var errStaleSession = errors.New("the broker's committed offsets are not where the aborted transaction left the session")

// unstableRetry is how long to wait before reading offsets again while the
// broker still reports a transaction's offsets as pending.
const unstableRetry = 50 * time.Millisecond

// offsetSpan is what a transaction would commit (heads) and where an abort
// rewinds to (committed), as the session saw them just before End.
type offsetSpan struct {
	committed map[string]map[int32]kgo.EpochOffset
	heads     map[string]map[int32]kgo.EpochOffset
}

// verdict is what the broker's committed offsets say about an abort.
type verdict uint8

const (
	abortConfirmed verdict = iota // at the last commit: the abort happened
	commitApplied                 // at the transaction's offsets: it committed
	outcomeUnknown                // anything else
)

// judge compares the broker's committed offsets (offset -1 for none) with s,
// over the partitions in s.heads that owned still holds. A partition revoked
// meanwhile is left out: whoever consumes it next reads its offset from the
// broker.
func (s offsetSpan) judge(broker map[string]map[int32]int64, owned func(string, int32) bool) verdict {
	aborted, applied, checked := true, true, false
	for topic, ps := range s.heads {
		for p, head := range ps {
			if !owned(topic, p) {
				continue
			}
			checked = true
			at, ok := broker[topic][p]
			if !ok {
				at = -1
			}
			last := int64(-1)
			if c, ok := s.committed[topic][p]; ok {
				last = c.Offset
			}
			aborted = aborted && at == last
			applied = applied && at == head.Offset
		}
	}
	switch {
	case !checked || aborted:
		return abortConfirmed
	case applied:
		return commitApplied
	}
	return outcomeUnknown
}

// confirmAbort checks an abort End reported without a rebalance or a failed
// produce to explain it, reports the transaction's real outcome, and returns
// errStaleSession if the session must be rebuilt.
func (l *Loop) confirmAbort(ctx context.Context, sess *kgo.GroupTransactSession, t *batch, span offsetSpan, start time.Time) (Outcome, error) {
	broker, err := l.stableOffsets(ctx, sess.Client(), span.heads)
	v := outcomeUnknown
	if err == nil {
		v = span.judge(broker, l.owned.has)
	}
	d := time.Since(start)
	switch v {
	case abortConfirmed:
		l.obs.TransactionEnded(Aborted, t.records, d)
		l.log.Info("transaction aborted by an abortable error; polling again from the last commit", "records", t.records)
		return Aborted, nil
	case commitApplied:
		l.obs.TransactionEnded(Committed, t.records, d)
		l.log.Warn("franz-go reported an abort, but the broker holds the transaction's offsets: its commit was applied though its answer was lost; rebuilding the session so that it resumes from the committed offsets",
			"records", t.records, "end_duration", d)
		return Committed, fmt.Errorf("ending the transaction: commit applied but reported as an abort: %w", errStaleSession)
	default:
		l.obs.TransactionEnded(Failed, t.records, d)
		if err != nil {
			l.log.Warn("franz-go reported an abort that could not be checked against the broker's committed offsets; rebuilding the session so that it resumes from them",
				"records", t.records, "err", err)
			return Failed, fmt.Errorf("ending the transaction: checking an abort: %w: %w", err, errStaleSession)
		}
		l.log.Warn("franz-go reported an abort, but the broker's committed offsets are neither the last commit nor the transaction's; rebuilding the session so that it resumes from them",
			"records", t.records, "broker", broker, "last_commit", span.committed, "transaction", span.heads)
		return Failed, fmt.Errorf("ending the transaction: %w", errStaleSession)
	}
}

// stableOffsets reads the group's committed offsets for the partitions in
// want, waiting while the broker reports any of them as pending in a
// transaction (UNSTABLE_OFFSET_COMMIT), until ctx is done.
func (l *Loop) stableOffsets(ctx context.Context, cl *kgo.Client, want map[string]map[int32]kgo.EpochOffset) (map[string]map[int32]int64, error) {
	adm := kadm.NewClient(cl)
	for {
		resps, err := adm.FetchOffsets(kadm.RequireStable(ctx), l.cfg.Group)
		if err != nil {
			return nil, fmt.Errorf("fetching the group's committed offsets: %w", err)
		}
		got := make(map[string]map[int32]int64, len(want))
		var unstable bool
		for topic, ps := range want {
			got[topic] = make(map[int32]int64, len(ps))
			for p := range ps {
				r, ok := resps.Lookup(topic, p)
				switch {
				case !ok:
					got[topic][p] = -1
				case errors.Is(r.Err, kerr.UnstableOffsetCommit):
					unstable = true
				case r.Err != nil:
					return nil, fmt.Errorf("fetching the committed offset of %s/%d: %w", topic, p, r.Err)
				default:
					got[topic][p] = r.At
				}
			}
		}
		if !unstable {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for stable committed offsets: %w", ctx.Err())
		case <-time.After(unstableRetry):
		}
	}
}
