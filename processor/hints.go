package processor

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Hints say what to change for the errors a misconfigured cluster gives,
// which the broker's error names alone do not.
var hints = []struct {
	errs []error
	hint string
}{
	{[]error{kerr.CoordinatorNotAvailable, kerr.CoordinatorLoadInProgress},
		"the broker cannot place the group or transaction coordinator: its internal topics __consumer_offsets and " +
			"__transaction_state need as many live brokers as their replication factor; on a cluster of fewer than 3 brokers set " +
			"offsets.topic.replication.factor, transaction.state.log.replication.factor and transaction.state.log.min.isr " +
			"to at most the number of brokers (1 for a single node), then restart the brokers"},
	{[]error{kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend},
		"fewer in-sync replicas than the topic's min.insync.replicas: bring the brokers back, or lower min.insync.replicas " +
			"(also transaction.state.log.min.isr) to at most the number of live brokers"},
	{[]error{kerr.UnknownTopicOrPartition, kerr.UnknownTopicID},
		"a topic is missing (or was deleted and re-created): create the input, output and error topics, e.g. " +
			"`ktool topics create input-events output-results error-events --partitions 6`; the processor never creates topics"},
	{[]error{kerr.InvalidTransactionTimeout},
		"--txn-timeout is longer than the broker's transaction.max.timeout.ms (15m by default): lower it or raise the broker setting"},
	{[]error{kerr.InvalidSessionTimeout},
		"--session-timeout is outside the broker's group.min.session.timeout.ms and group.max.session.timeout.ms (6s and 30m by default)"},
	{[]error{kerr.TransactionalIDAuthorizationFailed, kerr.GroupAuthorizationFailed, kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed},
		"the principal lacks an ACL the processor needs (see the error for which)"},
}

// Hint says what to change for err, or "" when it knows nothing to say.
func Hint(err error) string {
	if err == nil {
		return ""
	}
	for _, h := range hints {
		for _, e := range h.errs {
			if errors.Is(err, e) {
				return h.hint
			}
		}
	}
	return ""
}
