// Package txn is the exactly-once consume-transform-produce loop, and the only
// code in the project that touches kgo.GroupTransactSession. It knows nothing
// of the records' contents: it takes a TransformFunc.
//
// A Loop polls its input topics under read_committed, begins a transaction
// when the first records arrive, hands every record (never a transaction
// marker: those only move the committed offsets) to the TransformFunc and
// produces what it returns, and ends the transaction once it holds
// Config.MaxRecords input records or has been open Config.MaxInterval
// (defaults 10000 and 100ms; Kafka Streams under exactly-once commits every 100ms). Ending
// commits the produced records together with the consumed offsets, so a
// read_committed reader downstream sees the result of every input exactly
// once, whatever crashes or rebalances happen.
//
// # Guarantees
//
//   - A transaction commits only if every one of its produces succeeded. The
//     loop flushes and collects every produce result before End: franz-go
//     would otherwise commit whatever happened to succeed.
//   - Every record a poll returns is produced in the open transaction, since
//     End commits the offsets of everything polled; a poll never returns
//     more than the room left in the transaction.
//   - End never gets a cancelled context: it runs under
//     context.WithoutCancel, bounded by Config.TransactionTimeout, or by
//     Config.ShutdownTimeout when stopping.
//   - Broker trouble never ends Run. A missing input topic is logged (Warn,
//     rate-limited) and waited for; topics are never auto-created. An
//     unreachable broker is logged by kgo at Warn and retried. A poll that
//     returns only errors is followed by a pause (50ms doubling to 1s,
//     never past the open transaction's interval), so a failing partition
//     is not polled in a spin. A missing permission is logged at Error
//     with the ACL to grant and reported to Observer.Authorization.
//   - Cancelling Run's context stops polling, ends the open transaction
//     (committing it if every produce succeeded), leaves the group and
//     returns nil, within Config.ShutdownTimeout. A Begin still waiting on
//     the transaction coordinator (franz-go retries CONCURRENT_TRANSACTIONS
//     without a context) is abandoned and its session closed; the loop
//     keeps reporting Heartbeat while it waits.
//
// # The three outcomes of End
//
//   - Committed (true, nil): the records and offsets are committed.
//   - Aborted (false, nil): a rebalance happened while the transaction was
//     open (GroupTransactSession aborts rather than risk a duplicate), the
//     broker answered with an abortable error, or a produce failed and the
//     loop asked for the abort. The session has already rewound to the last
//     committed offsets; the loop simply polls again. After a failed
//     produce it first backs off. franz-go also reports a commit whose
//     answer was lost (UNKNOWN_SERVER_ERROR) as an abort, although the
//     broker may have applied it; so an abort that neither a rebalance
//     nor a failed produce explains is checked against the group's
//     committed offsets (read stable): if they are not at the last commit,
//     the session is rebuilt and resumes from them (an applied commit is
//     reported as Committed).
//   - Failed (false, err), or a failed Begin or flush: the session is closed
//     and a new one built, with exponential backoff (250ms to 10s, reset by
//     a commit). The new session's Begin fences the old producer and aborts
//     its transaction.
//
// # A record that can never be produced
//
// This layer cannot fix a record that the broker will always refuse (larger
// than the topic's max.message.bytes, a topic that does not exist): the
// transaction aborts, the input is polled again, and the loop retries with
// backoff forever, holding back its partition. The layer above must not emit
// such records (the processor turns oversized outputs into error events).
package txn
