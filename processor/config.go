package processor

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/event-processor/event-processor/internal/connect"
	"github.com/event-processor/event-processor/schema"
	"github.com/event-processor/event-processor/txn"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config is the processor's configuration. DefaultConfig holds every default;
// BindFlags maps each field to a flag with an environment twin; Validate
// checks the whole, once, at start-up.
type Config struct {
	// The original job's five options, with its defaults.
	Brokers     []string // --kafka-bootstrap-servers, KAFKA_BOOTSTRAP_SERVERS
	InputTopic  string   // --input-topic, INPUT_TOPIC
	OutputTopic string   // --output-topic, OUTPUT_TOPIC
	ErrorTopic  string   // --error-topic, ERROR_TOPIC
	Group       string   // --consumer-group, CONSUMER_GROUP

	TransactionalID    string        // --transactional-id, TRANSACTIONAL_ID
	SessionTimeout     time.Duration // --session-timeout, SESSION_TIMEOUT
	MaxRecords         int           // --txn-max-records, TXN_MAX_RECORDS
	MaxInterval        time.Duration // --txn-max-interval, TXN_MAX_INTERVAL
	Linger             time.Duration // --txn-linger, TXN_LINGER
	TransactionTimeout time.Duration // --txn-timeout, TXN_TIMEOUT
	PipelineName       string        // --pipeline-name, PIPELINE_NAME
	MaxRecordBytes     int           // --max-record-bytes, MAX_RECORD_BYTES
	HTTPAddr           string        // --http-addr, HTTP_ADDR
	LogLevel           string        // --log-level, LOG_LEVEL
	LogFormat          string        // --log-format, LOG_FORMAT
	ShutdownTimeout    time.Duration // --shutdown-timeout, SHUTDOWN_TIMEOUT

	// Connect is how the processor's clients reach the brokers: TLS, mTLS
	// and SASL (--tls*, --sasl-*; see package connect). The zero value,
	// the default, is plaintext without authentication.
	Connect connect.Options
}

// DefaultConfig returns the defaults: the original job's for its five
// options, Kafka Streams' exactly-once timings for the transaction bounds.
func DefaultConfig() Config {
	return Config{
		Brokers:            []string{"my-cluster-kafka-bootstrap.kafka.svc:9092"},
		InputTopic:         "input-events",
		OutputTopic:        "output-results",
		ErrorTopic:         "error-events",
		Group:              "flink-event-processor",
		TransactionalID:    defaultTransactionalID(),
		SessionTimeout:     45 * time.Second,
		MaxRecords:         txn.DefaultMaxRecords,
		MaxInterval:        txn.DefaultMaxInterval,
		TransactionTimeout: txn.DefaultTransactionTimeout,
		PipelineName:       schema.DefaultPipelineName,
		MaxRecordBytes:     schema.DefaultMaxRecordBytes,
		HTTPAddr:           ":8080",
		LogLevel:           "info",
		LogFormat:          "json",
		ShutdownTimeout:    txn.DefaultShutdownTimeout,
	}
}

// defaultTransactionalID is stable per instance: in a StatefulSet the host
// name is the pod name, so a restarted pod fences its predecessor.
func defaultTransactionalID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "local"
	}
	return "event-processor-" + host
}

// A Flag is one configuration option: its flag, its environment twin and
// its usage. Flags lists them all, in the order the help shows them.
type Flag struct {
	Name, Env, Usage string
	value            func(c *Config) flag.Value
}

// Flags lists every option of `event-processor run`.
var Flags = []Flag{
	{"kafka-bootstrap-servers", "KAFKA_BOOTSTRAP_SERVERS", "Kafka bootstrap servers, comma-separated host:port", func(c *Config) flag.Value { return (*listValue)(&c.Brokers) }},
	{"input-topic", "INPUT_TOPIC", "topic to read events from", func(c *Config) flag.Value { return (*stringValue)(&c.InputTopic) }},
	{"output-topic", "OUTPUT_TOPIC", "topic for enriched events", func(c *Config) flag.Value { return (*stringValue)(&c.OutputTopic) }},
	{"error-topic", "ERROR_TOPIC", "topic for error events (unparseable, invalid or oversized input)", func(c *Config) flag.Value { return (*stringValue)(&c.ErrorTopic) }},
	{"consumer-group", "CONSUMER_GROUP", "consumer group id", func(c *Config) flag.Value { return (*stringValue)(&c.Group) }},
	{"transactional-id", "TRANSACTIONAL_ID", "transactional id, unique and stable per instance (event-processor-<hostname>: in a StatefulSet, the pod name)", func(c *Config) flag.Value { return (*stringValue)(&c.TransactionalID) }},
	{"session-timeout", "SESSION_TIMEOUT", "group session timeout: how long the group waits for a silent instance before moving its partitions", func(c *Config) flag.Value { return (*durationValue)(&c.SessionTimeout) }},
	{"txn-max-records", "TXN_MAX_RECORDS", "most input records per transaction", func(c *Config) flag.Value { return (*intValue)(&c.MaxRecords) }},
	{"txn-max-interval", "TXN_MAX_INTERVAL", "longest a transaction collects records before it commits", func(c *Config) flag.Value { return (*durationValue)(&c.MaxInterval) }},
	{"txn-linger", "TXN_LINGER", "how long a transaction waits for more input once the input is drained before it commits (0: at once; --txn-max-interval or more: always the whole interval)", func(c *Config) flag.Value { return (*durationValue)(&c.Linger) }},
	{"txn-timeout", "TXN_TIMEOUT", "transaction timeout: the broker aborts a transaction open longer than this", func(c *Config) flag.Value { return (*durationValue)(&c.TransactionTimeout) }},
	{"pipeline-name", "PIPELINE_NAME", "written as enrichedData.processing_pipeline", func(c *Config) flag.Value { return (*stringValue)(&c.PipelineName) }},
	{"max-record-bytes", "MAX_RECORD_BYTES", "largest record produced; lowered to the output and error topics' max.message.bytes", func(c *Config) flag.Value { return (*intValue)(&c.MaxRecordBytes) }},
	{"http-addr", "HTTP_ADDR", "address for /metrics, /healthz and /readyz; empty disables", func(c *Config) flag.Value { return (*stringValue)(&c.HTTPAddr) }},
	{"log-level", "LOG_LEVEL", "debug, info, warn or error", func(c *Config) flag.Value { return (*stringValue)(&c.LogLevel) }},
	{"log-format", "LOG_FORMAT", "json or text", func(c *Config) flag.Value { return (*stringValue)(&c.LogFormat) }},
	{"shutdown-timeout", "SHUTDOWN_TIMEOUT", "bound on finishing the open transaction and leaving the group on SIGTERM", func(c *Config) flag.Value { return (*durationValue)(&c.ShutdownTimeout) }},
}

// The connection options (TLS, SASL) are connect.Flags, the table ktool
// registers too; here they set Config.Connect.
func init() {
	for _, f := range connect.Flags {
		Flags = append(Flags, Flag{f.Name, f.Env, f.Usage, func(c *Config) flag.Value { return f.Value(&c.Connect) }})
	}
}

// BindFlags registers the options named in only (every option when none is
// named) on fs, with c's current values as defaults. After fs.Parse, call
// ApplyEnv so that the environment fills what the command line did not set.
func (c *Config) BindFlags(fs *flag.FlagSet, only ...string) {
	for _, f := range Flags {
		if len(only) == 0 || slices.Contains(only, f.Name) {
			fs.Var(f.value(c), f.Name, f.Usage+" (env "+f.Env+")")
		}
	}
}

// ApplyEnv sets every option that was not given on fs's command line from
// its environment variable, if that is set: flags beat env beat defaults.
func (c *Config) ApplyEnv(fs *flag.FlagSet, getenv func(string) (string, bool)) error {
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, f := range Flags {
		if set[f.Name] || fs.Lookup(f.Name) == nil {
			continue
		}
		v, ok := getenv(f.Env)
		if !ok {
			continue
		}
		if err := f.value(c).Set(v); err != nil {
			return fmt.Errorf("environment variable %s (twin of --%s): %w", f.Env, f.Name, err)
		}
	}
	if fs.Lookup("sasl-mechanism") != nil {
		c.Connect.ApplyPasswordEnv(getenv) // the password has no flag
	}
	return nil
}

// Validate reports the first option that cannot work, naming its flag.
func (c *Config) Validate() error {
	bad := func(flagName, format string, args ...any) error {
		return fmt.Errorf("--%s: %s", flagName, fmt.Sprintf(format, args...))
	}
	if len(c.Brokers) == 0 {
		return bad("kafka-bootstrap-servers", "at least one host:port is required")
	}
	for _, b := range c.Brokers {
		host, port, err := splitHostPort(b)
		if err != nil || host == "" {
			return bad("kafka-bootstrap-servers", "%q is not host:port", b)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return bad("kafka-bootstrap-servers", "%q has an invalid port", b)
		}
	}
	for _, t := range []struct{ flag, name string }{
		{"input-topic", c.InputTopic}, {"output-topic", c.OutputTopic}, {"error-topic", c.ErrorTopic},
	} {
		if err := checkTopicName(t.name); err != nil {
			return bad(t.flag, "%v", err)
		}
	}
	if c.OutputTopic == c.InputTopic {
		return bad("output-topic", "must differ from --input-topic (%q), or every output would be read again", c.InputTopic)
	}
	if c.ErrorTopic == c.InputTopic {
		return bad("error-topic", "must differ from --input-topic (%q), or every error would be read again", c.InputTopic)
	}
	if strings.TrimSpace(c.Group) == "" {
		return bad("consumer-group", "must not be empty")
	}
	if len(c.Group) > MaxIDBytes {
		return bad("consumer-group", "is %d bytes, at most %d are allowed", len(c.Group), MaxIDBytes)
	}
	if strings.TrimSpace(c.TransactionalID) == "" {
		return bad("transactional-id", "must not be empty")
	}
	if len(c.TransactionalID) > MaxIDBytes {
		return bad("transactional-id", "is %d bytes, at most %d are allowed", len(c.TransactionalID), MaxIDBytes)
	}
	if c.SessionTimeout < MinSessionTimeout || c.SessionTimeout > MaxSessionTimeout {
		return bad("session-timeout", "must be between %s and %s (the broker's group.min.session.timeout.ms and "+
			"group.max.session.timeout.ms defaults), got %s", MinSessionTimeout, fmtDuration(MaxSessionTimeout), c.SessionTimeout)
	}
	if c.MaxRecords < 1 {
		return bad("txn-max-records", "must be at least 1, got %d", c.MaxRecords)
	}
	if c.MaxInterval <= 0 {
		return bad("txn-max-interval", "must be positive, got %s", c.MaxInterval)
	}
	if c.Linger < 0 {
		return bad("txn-linger", "must not be negative, got %s", c.Linger)
	}
	if c.TransactionTimeout <= c.MaxInterval {
		return bad("txn-timeout", "must exceed --txn-max-interval (%s), got %s", c.MaxInterval, c.TransactionTimeout)
	}
	if c.TransactionTimeout > maxTransactionTimeout {
		return bad("txn-timeout", "must be at most %s (the broker's transaction.max.timeout.ms default), got %s", maxTransactionTimeout, c.TransactionTimeout)
	}
	if c.ShutdownTimeout <= 0 {
		return bad("shutdown-timeout", "must be positive, got %s", c.ShutdownTimeout)
	}
	if c.MaxRecordBytes < MinRecordBytes || c.MaxRecordBytes > MaxRecordBytes {
		return bad("max-record-bytes", "must be between %d and %d, got %d", MinRecordBytes, MaxRecordBytes, c.MaxRecordBytes)
	}
	if _, err := c.Transformer(c.MaxRecordBytes); err != nil {
		var oe *schema.OptionError
		if errors.As(err, &oe) && oe.Field == "PipelineName" {
			return bad("pipeline-name", "%s", oe.Reason)
		}
		return bad("max-record-bytes", "%v", err)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return bad("log-level", "%v", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return bad("log-format", "must be json or text, got %q", c.LogFormat)
	}
	if err := c.Connect.Validate(); err != nil {
		return err
	}
	if c.HTTPAddr != "" {
		_, port, err := net.SplitHostPort(c.HTTPAddr)
		if err != nil || port == "" {
			return bad("http-addr", "%q is not [host]:port (e.g. :8080 or 127.0.0.1:8080; empty disables)", c.HTTPAddr)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return bad("http-addr", "%q has port %q; the port must be a number from 0 (any free port) to 65535", c.HTTPAddr, port)
		}
	}
	return nil
}

// The broker's default range for a group member's session timeout
// (group.min.session.timeout.ms=6000, group.max.session.timeout.ms=1800000).
// A broker configured with a narrower range refuses the join with
// INVALID_SESSION_TIMEOUT; see SessionTimeoutHint.
const (
	MinSessionTimeout = 6 * time.Second
	MaxSessionTimeout = 30 * time.Minute
)

// MaxIDBytes bounds --consumer-group and --transactional-id. franz-go refuses
// a transactional id over 16382 bytes (the longest whose length fits a
// two-byte compact prefix) and Kafka refuses any request string over 32767
// bytes (its int16 length); the group id travels in the same transactional
// requests (AddOffsetsToTxn, TxnOffsetCommit), so both share the lower bound.
const MaxIDBytes = 16382

// SessionTimeoutHint explains err if it is the broker refusing the group
// session timeout, naming the flag and the broker settings; otherwise it
// returns "".
func SessionTimeoutHint(err error, timeout time.Duration) string {
	if !errors.Is(err, kerr.InvalidSessionTimeout) {
		return ""
	}
	return fmt.Sprintf("the broker refused --session-timeout %s: it is outside the broker's group.min.session.timeout.ms "+
		"to group.max.session.timeout.ms (6s to 30m by default); set --session-timeout (SESSION_TIMEOUT) within the "+
		"broker's range or widen those broker settings", timeout)
}

// SessionTimeoutHook returns a kgo hook that logs SessionTimeoutHint, at
// error level, each time the broker refuses c.SessionTimeout; pass it to
// every client with WithClientOpts(kgo.WithHooks(...)).
func (c *Config) SessionTimeoutHook(log *slog.Logger) kgo.Hook {
	return sessionTimeoutHook{log: log, timeout: c.SessionTimeout}
}

type sessionTimeoutHook struct {
	log     *slog.Logger
	timeout time.Duration
}

func (h sessionTimeoutHook) OnGroupManageError(err error) {
	if hint := SessionTimeoutHint(err, h.timeout); hint != "" {
		h.log.Error(hint, "flag", "--session-timeout", "session_timeout", h.timeout.String(), "err", err)
	}
}

// fmtDuration prints whole minutes as "30m" rather than "30m0s".
func fmtDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// recordOverhead is room kept below the record size limit for a record's
// framing, the provenance headers and a typical key and headers; a record
// whose key and headers need more gets a smaller event budget (see
// Processor.transform).
const recordOverhead = 4096

// MinRecordBytes is the smallest --max-record-bytes: room for the record
// overhead and schema's smallest event.
const MinRecordBytes = schema.MinMaxRecordBytes + recordOverhead

// MaxRecordBytes is the largest --max-record-bytes, 64 MiB. The Kafka
// client writes at most 100 MiB in one request (kgo's BrokerMaxWriteBytes)
// and a broker reads at most that (socket.request.max.bytes): a record of
// nearly 100 MiB plus its batch and request framing would be refused by
// both, and the transaction holding it would fail for ever.
const MaxRecordBytes = 64 << 20

// maxTransactionTimeout is the broker's default transaction.max.timeout.ms;
// a longer --txn-timeout makes every transaction fail to begin.
const maxTransactionTimeout = 15 * time.Minute

// Transformer returns the schema.Transformer that c's pipeline name and a
// record size limit call for: events get the limit less the room kept for
// the record's key, headers and framing. The processor and the transform dry
// run both build theirs here, so they agree on what is too large.
func (c *Config) Transformer(recordLimit int) (*schema.Transformer, error) {
	return schema.New(schema.Options{PipelineName: c.PipelineName, MaxRecordBytes: recordLimit - recordOverhead})
}

// checkTopicName applies Kafka's rules for topic names.
func checkTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("topic name must not be empty")
	case len(name) > 249:
		return fmt.Errorf("topic name is %d characters, Kafka allows 249", len(name))
	case name == "." || name == "..":
		return fmt.Errorf("topic name %q is not allowed", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q has %q; Kafka allows only ASCII letters, digits, '.', '_' and '-'", name, c)
		}
	}
	return nil
}

func splitHostPort(s string) (host, port string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", errors.New("missing port")
	}
	return strings.Trim(s[:i], "[]"), s[i+1:], nil
}

type stringValue string

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

type listValue []string

func (v *listValue) String() string { return strings.Join(*v, ",") }
func (v *listValue) Set(s string) error {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	*v = out
	return nil
}

type intValue int

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*v = intValue(n)
	return nil
}

type durationValue time.Duration

func (v *durationValue) String() string { return time.Duration(*v).String() }
func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a duration (examples: 100ms, 10s, 1m)", s)
	}
	*v = durationValue(d)
	return nil
}
