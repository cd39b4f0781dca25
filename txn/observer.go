package txn

import "time"

// Outcome is how a transaction ended.
type Outcome uint8

const (
	// Committed: End committed the records and the consumed offsets.
	Committed Outcome = iota
	// Aborted: End aborted without error, because of a rebalance, an
	// abortable broker error, or a produce in the batch that failed. The
	// session has rewound to the last committed offsets; the loop polls
	// the same input again.
	Aborted
	// Failed: End (or the flush before it, or Begin) returned an error. The
	// loop closes the session and builds a new one, with backoff.
	Failed
)

// String returns committed, aborted or failed, for metric labels.
func (o Outcome) String() string {
	switch o {
	case Committed:
		return "committed"
	case Aborted:
		return "aborted"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Observer receives the loop's events, for metrics and health. Calls come
// from the loop goroutine or from franz-go's group callbacks; implementations
// must be cheap, must not block, and must be safe for concurrent use.
type Observer interface {
	// Consumed reports n records polled (once per poll with records),
	// not counting transaction markers.
	Consumed(n int)
	// TransactionEnded reports a transaction's outcome, how many input
	// records it held, and how long ending it took (flush plus End). A
	// failed Begin reports Failed with 0 records and a zero duration: it
	// ended nothing.
	TransactionEnded(o Outcome, records int, d time.Duration)
	// SessionRebuilt reports that the session was closed, after err, and a
	// new one is being built.
	SessionRebuilt(err error)
	// Assigned reports OnPartitionsAssigned; the map may be empty.
	Assigned(partitions map[string][]int32)
	// Revoked reports OnPartitionsRevoked (lost false) or OnPartitionsLost
	// (lost true); the map may be empty. A lost session also covers a
	// group that cannot be reached at all. It also reports the revokes and
	// losses that GroupTransactSession does not pass on (every one after
	// the first until the next End), as the loop infers them from the
	// group's assignment and errors: Assigned and Revoked together follow
	// the real assignment.
	Revoked(partitions map[string][]int32, lost bool)
	// Heartbeat reports that the loop is alive. It is called every
	// iteration, including idle polls, which are bounded to one second,
	// and every second while backing off or waiting for Begin.
	Heartbeat()
	// Lag reports, per polled partition, HighWatermark minus the next
	// offset to consume, past any transaction markers and aborted records
	// polled: 0 once everything is consumed, as kadm's Lag (end offset
	// minus committed offset) is once the transaction commits. It is
	// coarse: it is measured at fetch time and counts the markers and
	// aborted records still ahead.
	Lag(topic string, partition int32, lag int64)
	// Authorization reports that the broker refuses the loop a permission
	// it needs (failure names the resource and the missing operation),
	// on every poll, produce or session that it refuses, at most about
	// once a second per kind; and, with a nil failure, that it is
	// authorized again (a clean poll after a refused fetch, a commit after
	// anything else). The loop retries meanwhile and loses nothing, but
	// does no work: a processor should report itself not ready.
	Authorization(failure *AuthorizationError)
	// Fenced reports that another process with this transactional id (or
	// group instance id) took over: a session that ended on
	// PRODUCER_FENCED or INVALID_PRODUCER_EPOCH (then also
	// SessionRebuilt), or a group that refuses this member with
	// FENCED_INSTANCE_ID (at most once per warnEvery; the loop does not
	// take the membership back, so a zombie stays out). Once after a
	// restart is normal; more means two live instances share the id.
	Fenced(err error)
}

type nopObserver struct{}

func (nopObserver) Consumed(int)                                 {}
func (nopObserver) TransactionEnded(Outcome, int, time.Duration) {}
func (nopObserver) SessionRebuilt(error)                         {}
func (nopObserver) Assigned(map[string][]int32)                  {}
func (nopObserver) Revoked(map[string][]int32, bool)             {}
func (nopObserver) Heartbeat()                                   {}
func (nopObserver) Lag(string, int32, int64)                     {}
func (nopObserver) Authorization(*AuthorizationError)            {}
func (nopObserver) Fenced(error)                                 {}
