package txn

import (
	"maps"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The session's assignment cannot be read from the group callbacks alone.
// GroupTransactSession (kgo/txn.go, NewGroupTransactSession) wraps
// OnPartitionsRevoked and OnPartitionsLost, and once either has fired it
// returns early, without calling ours, from every later revoke or loss until
// the next End resets it. An idle instance or a standby never ends a
// transaction, so from its second rebalance on it would never hear that
// partitions were taken away, nor that the group was lost again.
//
// OnPartitionsAssigned is not wrapped and kgo calls it at the end of every
// rebalance, even with nothing new (consumer_group.go, assign), but under the
// cooperative protocol it carries only the added partitions. So the loop
// wraps the group balancer to keep the full assignment of each SyncGroup
// answer (ParseSyncAssignment, which kgo stores as the session's assignment
// before it revokes and assigns): in OnPartitionsAssigned whatever the loop
// believes it owns beyond that was revoked, and is reported so. A loss is
// seen through HookGroupManageError, which kgo calls, unwrapped, right after
// OnPartitionsLost each time the group session dies (manageFailWait).
//
// This covers kgo's classic group protocol, which the loop uses. With
// kgo.Balancers or kgo.ServerSideBalancer in Config.ClientOpts the loop falls
// back to the callbacks alone.

// ownedParts is the session's assignment.
type ownedParts struct {
	mu sync.Mutex
	m  map[string]map[int32]bool
}

func (o *ownedParts) add(ps map[string][]int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = make(map[string]map[int32]bool)
	}
	for t, parts := range ps {
		if o.m[t] == nil {
			o.m[t] = make(map[int32]bool)
		}
		for _, p := range parts {
			o.m[t][p] = true
		}
	}
}

func (o *ownedParts) remove(ps map[string][]int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for t, parts := range ps {
		for _, p := range parts {
			delete(o.m[t], p)
		}
	}
}

// replace makes ps the assignment and returns what was owned but is not in
// ps, nil if nothing.
func (o *ownedParts) replace(ps map[string][]int32) map[string][]int32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	keep := make(map[string]map[int32]bool, len(ps))
	for t, parts := range ps {
		keep[t] = make(map[int32]bool, len(parts))
		for _, p := range parts {
			keep[t][p] = true
		}
	}
	var gone map[string][]int32
	for t, parts := range o.m {
		for p := range parts {
			if !keep[t][p] {
				if gone == nil {
					gone = make(map[string][]int32)
				}
				gone[t] = append(gone[t], p)
			}
		}
	}
	o.m = keep
	return gone
}

func (o *ownedParts) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.m)
}

func (o *ownedParts) has(topic string, p int32) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[topic][p]
}

// syncedAssignment is the full assignment of the session's last SyncGroup.
type syncedAssignment struct {
	mu sync.Mutex
	m  map[string][]int32
	ok bool // m is set: the loop's balancer wrapper is in use
}

func (s *syncedAssignment) store(m map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m, s.ok = maps.Clone(m), true
}

// load returns the last synced assignment, and false if there was none
// (another balancer is configured, or no SyncGroup yet).
func (s *syncedAssignment) load() (map[string][]int32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m, s.ok
}

func (s *syncedAssignment) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m, s.ok = nil, false
}

// syncTracking is a GroupBalancer that keeps every assignment it parses.
// Everything else is the wrapped balancer's, so the group protocol does not
// change: the members' balancing is done by the balancer returned by
// MemberBalancer, which is passed through as is.
type syncTracking struct {
	kgo.GroupBalancer
	synced *syncedAssignment
}

func (b syncTracking) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	m, err := b.GroupBalancer.ParseSyncAssignment(assignment)
	if err == nil {
		b.synced.store(m)
	}
	return m, err
}

// groupLossHook reports a lost group session whose OnPartitionsLost the
// session swallowed.
type groupLossHook struct{ l *Loop }

func (h groupLossHook) OnGroupManageError(err error) { h.l.groupLost(err) }

// assignedCallback is OnPartitionsAssigned: m is what kgo adds.
func (l *Loop) assignedCallback(m map[string][]int32) {
	l.log.Info("partitions assigned", "partitions", m)
	if full, ok := l.synced.load(); ok {
		if gone := l.owned.replace(full); len(gone) > 0 {
			// A revoke GroupTransactSession did not pass on: it has
			// already failed the session, so the next End aborts.
			l.log.Info("partitions revoked", "partitions", gone, "seen_by", "assignment")
			l.rebalanced.Store(true)
			l.obs.Revoked(gone, false)
		}
	} else {
		l.owned.add(m)
	}
	l.member.Store(true)
	l.assigned.Store(true)
	l.obs.Assigned(m)
}

// lostCallback is OnPartitionsLost, which the session passes on once per
// transaction at most.
func (l *Loop) lostCallback(m map[string][]int32) {
	l.log.Warn("partitions lost", "partitions", m)
	l.owned.remove(m)
	l.member.Store(false)
	l.rebalanced.Store(true)
	l.obs.Revoked(m, true)
}

// groupLost runs right after kgo has called OnPartitionsLost; if the session
// swallowed it, it is reported here, once per loss of membership (kgo calls
// this again on every failed rejoin).
func (l *Loop) groupLost(err error) {
	if !l.member.Swap(false) {
		return // lostCallback saw it, or we were not a member anyway
	}
	gone := l.owned.replace(nil)
	l.log.Warn("partitions lost", "partitions", gone, "seen_by", "group error", "err", err)
	l.rebalanced.Store(true)
	l.obs.Revoked(gone, true)
}
