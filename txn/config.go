package txn

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults, kept in one place. The time bounds follow Kafka Streams under
// exactly_once_v2 (commit.interval.ms 100, transaction.timeout.ms 10000).
const (
	DefaultMaxRecords         = 10000
	DefaultMaxInterval        = 100 * time.Millisecond
	DefaultTransactionTimeout = 10 * time.Second
	DefaultShutdownTimeout    = 10 * time.Second
)

// Backoff between session rebuilds and after a transaction aborted because a
// produce failed: exponential with jitter from backoffMin, capped at
// backoffMax, reset by a commit.
const (
	backoffMin = 250 * time.Millisecond
	backoffMax = 10 * time.Second
)

// Pause after a poll that returned only errors (KeepRetryableFetchErrors
// makes kgo return those at once), doubling from errPollBackoffMin to
// errPollBackoffMax: a failing partition is polled at most once a second
// once the failure persists, rather than thousands of times.
const (
	errPollBackoffMin = 50 * time.Millisecond
	errPollBackoffMax = time.Second
)

// idlePollTimeout bounds a poll made outside a transaction, so that the loop
// reports a Heartbeat at least this often even when the input is idle.
const idlePollTimeout = time.Second

// Config configures a Loop. The zero value of every optional field means its
// default; New validates the whole struct once.
type Config struct {
	// Brokers are the seed brokers (kgo.SeedBrokers). Required.
	Brokers []string
	// Group is the consumer group (kgo.ConsumerGroup). Required.
	Group string
	// Topics are the input topics (kgo.ConsumeTopics). Required.
	Topics []string
	// TransactionalID is the producer's transactional id (kgo.TransactionalID).
	// Keep it stable across restarts of one logical instance so that a
	// restart fences its zombie. Required.
	TransactionalID string

	// MaxRecords bounds the input records of one transaction, overriding the
	// default 10000. A poll never returns more than the room left. Under
	// load, the default lets MaxInterval end most transactions, as Kafka
	// Streams' commit interval does; with 1000, a transaction every few
	// milliseconds cost 2.3x in throughput (docs/benchmarks.md). The loop
	// sets kgo.MaxBufferedRecords to 4 times this (at least kgo's default
	// 50000), overriding ClientOpts, so that a transaction's produces never
	// wait for buffer room.
	MaxRecords int
	// MaxInterval bounds how long a transaction stays open collecting
	// records, from Begin to the start of End, overriding the default 100ms.
	MaxInterval time.Duration
	// Linger is how long an open transaction keeps collecting once its input
	// is drained (every polled partition read up to its last stable offset
	// and nothing left in the client's buffer) before it commits. The
	// default 0 commits at once: at light load a result is visible about
	// one End after its input arrived, instead of waiting out MaxInterval;
	// under load the input is never drained and MaxRecords and MaxInterval
	// bound the batch as before, which while an End is in flight grows by
	// itself. A Linger of MaxInterval or more keeps every transaction open
	// for the whole interval, as Kafka Streams' commit interval does.
	Linger time.Duration
	// TransactionTimeout is kgo.TransactionTimeout, overriding the default
	// 10s. It must exceed MaxInterval. Twice it bounds one End (endBound).
	TransactionTimeout time.Duration
	// ShutdownTimeout bounds finishing the open transaction and leaving the
	// group once Run's context is cancelled, overriding the default 10s.
	ShutdownTimeout time.Duration

	// Logger receives the loop's logs, overriding slog.Default(). The kgo
	// client logs through it too (via plugin/kslog), at Warn and above only.
	Logger *slog.Logger
	// Observer receives the loop's events; nil means none.
	Observer Observer

	// ClientOpts are extra kgo options, applied after the loop's own (so
	// they win), for TLS, SASL, tests. Options that break exactly-once
	// (DisableIdempotentWrite) are rejected by kgo's own validation.
	ClientOpts []kgo.Opt
	// SessionOpts, when set, is called before each session is built, and
	// the options it returns come after ClientOpts: options whose value
	// can change while the loop runs (the processor passes the record
	// size limit it last read from the topics). See Loop.Rebuild.
	SessionOpts func() []kgo.Opt
}

// ErrInvalidConfig is wrapped by every error New returns for a Config that
// cannot work. Such an error names the field, as in
// "txn: Config.Brokers: required".
var ErrInvalidConfig = errors.New("invalid txn config")

// ConfigError is a Config field that failed validation.
type ConfigError struct {
	Field  string // the Config field, e.g. "MaxInterval"
	Reason string // what is wrong with it
	Err    error  // the underlying error, if any (kgo's option validation)
}

func (e *ConfigError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("txn: Config.%s: %s: %v", e.Field, e.Reason, e.Err)
	}
	return fmt.Sprintf("txn: Config.%s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidConfig and the underlying error, if any.
func (e *ConfigError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidConfig, e.Err}
	}
	return []error{ErrInvalidConfig}
}

// withDefaults returns cfg with every unset optional field at its default.
func (cfg Config) withDefaults() Config {
	if cfg.MaxRecords == 0 {
		cfg.MaxRecords = DefaultMaxRecords
	}
	if cfg.MaxInterval == 0 {
		cfg.MaxInterval = DefaultMaxInterval
	}
	if cfg.TransactionTimeout == 0 {
		cfg.TransactionTimeout = DefaultTransactionTimeout
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	return cfg
}

// validate checks a Config that already has its defaults.
func (cfg *Config) validate() error {
	bad := func(field, reason string) error { return &ConfigError{Field: field, Reason: reason} }
	switch {
	case len(cfg.Brokers) == 0:
		return bad("Brokers", "required")
	case cfg.Group == "":
		return bad("Group", "required")
	case len(cfg.Topics) == 0:
		return bad("Topics", "required")
	case cfg.TransactionalID == "":
		return bad("TransactionalID", "required")
	case cfg.MaxRecords < 0:
		return bad("MaxRecords", fmt.Sprintf("must be positive, got %d", cfg.MaxRecords))
	case cfg.MaxInterval < 0:
		return bad("MaxInterval", fmt.Sprintf("must be positive, got %s", cfg.MaxInterval))
	case cfg.Linger < 0:
		return bad("Linger", fmt.Sprintf("must not be negative, got %s", cfg.Linger))
	case cfg.TransactionTimeout < 0:
		return bad("TransactionTimeout", fmt.Sprintf("must be positive, got %s", cfg.TransactionTimeout))
	case cfg.TransactionTimeout <= cfg.MaxInterval:
		// The broker aborts a transaction open longer than this; one that
		// only collects for MaxInterval must still have time to End.
		return bad("TransactionTimeout", fmt.Sprintf("must exceed MaxInterval (%s), got %s", cfg.MaxInterval, cfg.TransactionTimeout))
	case cfg.ShutdownTimeout < 0:
		return bad("ShutdownTimeout", fmt.Sprintf("must be positive, got %s", cfg.ShutdownTimeout))
	}
	for i, b := range cfg.Brokers {
		if b == "" {
			return bad("Brokers", fmt.Sprintf("entry %d is empty", i))
		}
	}
	for i, t := range cfg.Topics {
		if t == "" {
			return bad("Topics", fmt.Sprintf("entry %d is empty", i))
		}
	}
	return nil
}
