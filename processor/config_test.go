package processor

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/event-processor/event-processor/internal/connect"
	"github.com/event-processor/event-processor/internal/syncbuf"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func parse(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if err := cfg.ApplyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestDefaultsKeepTheOriginalJobsOptions(t *testing.T) {
	cfg, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Brokers, ","); got != "my-cluster-kafka-bootstrap.kafka.svc:9092" {
		t.Errorf("brokers = %q", got)
	}
	if cfg.InputTopic != "input-events" || cfg.OutputTopic != "output-results" || cfg.ErrorTopic != "error-events" || cfg.Group != "flink-event-processor" {
		t.Errorf("topics/group = %q %q %q %q", cfg.InputTopic, cfg.OutputTopic, cfg.ErrorTopic, cfg.Group)
	}
	if cfg.MaxInterval != 100*time.Millisecond || cfg.TransactionTimeout != 10*time.Second || !strings.HasPrefix(cfg.TransactionalID, "event-processor-") {
		t.Errorf("txn defaults = %s %s %q", cfg.MaxInterval, cfg.TransactionTimeout, cfg.TransactionalID)
	}
}

func TestFlagsBeatEnvBeatDefaults(t *testing.T) {
	env := map[string]string{
		"KAFKA_BOOTSTRAP_SERVERS": "a:1, b:2",
		"INPUT_TOPIC":             "env-in",
		"OUTPUT_TOPIC":            "env-out",
		"TXN_MAX_RECORDS":         "50",
	}
	cfg, err := parse(t, []string{"--output-topic", "flag-out", "--txn-max-interval", "250ms"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Brokers, ","); got != "a:1,b:2" {
		t.Errorf("brokers from env = %q", got)
	}
	if cfg.InputTopic != "env-in" || cfg.OutputTopic != "flag-out" || cfg.MaxRecords != 50 || cfg.MaxInterval != 250*time.Millisecond {
		t.Errorf("got input %q output %q records %d interval %s", cfg.InputTopic, cfg.OutputTopic, cfg.MaxRecords, cfg.MaxInterval)
	}
	if cfg.ErrorTopic != "error-events" {
		t.Errorf("error topic default = %q", cfg.ErrorTopic)
	}
}

func TestInvalidConfigNamesTheFlag(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--kafka-bootstrap-servers", ""}, nil, "--kafka-bootstrap-servers: at least one"},
		{[]string{"--kafka-bootstrap-servers", "nohost"}, nil, "--kafka-bootstrap-servers: \"nohost\" is not host:port"},
		{[]string{"--kafka-bootstrap-servers", "h:99999"}, nil, "--kafka-bootstrap-servers: \"h:99999\" has an invalid port"},
		{[]string{"--input-topic", "a b"}, nil, "--input-topic: topic name \"a b\" has ' '"},
		{[]string{"--output-topic", "input-events"}, nil, "--output-topic: must differ from --input-topic"},
		{[]string{"--error-topic", "input-events"}, nil, "--error-topic: must differ from --input-topic"},
		{[]string{"--consumer-group", " "}, nil, "--consumer-group: must not be empty"},
		{[]string{"--transactional-id", ""}, nil, "--transactional-id: must not be empty"},
		{[]string{"--txn-max-records", "0"}, nil, "--txn-max-records: must be at least 1"},
		{[]string{"--txn-max-interval", "0s"}, nil, "--txn-max-interval: must be positive"},
		{[]string{"--txn-linger", "-1ms"}, nil, "--txn-linger: must not be negative"},
		{[]string{"--txn-timeout", "50ms"}, nil, "--txn-timeout: must exceed --txn-max-interval"},
		{[]string{"--session-timeout", "10ms"}, nil, "--session-timeout: must be between 6s and 30m"},
		{[]string{"--session-timeout", "2s"}, nil, "--session-timeout: must be between 6s and 30m (the broker's group.min.session.timeout.ms and group.max.session.timeout.ms defaults), got 2s"},
		{[]string{"--session-timeout", "5s"}, nil, "--session-timeout: must be between 6s and 30m"},
		{[]string{"--session-timeout", "31m"}, nil, "--session-timeout: must be between 6s and 30m"},
		{[]string{"--session-timeout", "1000h"}, nil, "--session-timeout: must be between 6s and 30m"},
		{nil, map[string]string{"SESSION_TIMEOUT": "1s"}, "--session-timeout: must be between 6s and 30m"},
		{[]string{"--consumer-group", strings.Repeat("g", 40000)}, nil, "--consumer-group: is 40000 bytes, at most 16382 are allowed"},
		{[]string{"--consumer-group", strings.Repeat("g", 16383)}, nil, "--consumer-group: is 16383 bytes"},
		{[]string{"--transactional-id", strings.Repeat("t", 40000)}, nil, "--transactional-id: is 40000 bytes, at most 16382 are allowed"},
		{[]string{"--http-addr", "127.0.0.1:99999"}, nil, `--http-addr: "127.0.0.1:99999" has port "99999"; the port must be a number from 0 (any free port) to 65535`},
		{[]string{"--http-addr", "127.0.0.1:-1"}, nil, `--http-addr: "127.0.0.1:-1" has port "-1"`},
		{[]string{"--http-addr", "a:b:8080"}, nil, `--http-addr: "a:b:8080" is not [host]:port`},
		{[]string{"--http-addr", "127.0.0.1:"}, nil, `--http-addr: "127.0.0.1:" is not [host]:port`},
		{[]string{"--max-record-bytes", "100"}, nil, "--max-record-bytes: must be between 8192 and 67108864, got 100"},
		{[]string{"--max-record-bytes", "104857600"}, nil, "--max-record-bytes: must be between 8192 and 67108864, got 104857600"},
		{[]string{"--max-record-bytes", "200000000"}, nil, "--max-record-bytes: must be between 8192"},
		{[]string{"--txn-timeout", "16m"}, nil, "--txn-timeout: must be at most 15m0s"},
		{[]string{"--pipeline-name", strings.Repeat("p", 300)}, nil, "--pipeline-name: must be at most 256 bytes"},
		{[]string{"--log-level", "loud"}, nil, "--log-level: must be debug, info, warn or error"},
		{[]string{"--log-format", "xml"}, nil, "--log-format: must be json or text"},
		{[]string{"--http-addr", "8080"}, nil, "--http-addr: \"8080\" is not [host]:port"},
		{[]string{"--shutdown-timeout", "0s"}, nil, "--shutdown-timeout: must be positive"},
		{[]string{"--txn-max-records", "many"}, nil, "invalid value \"many\" for flag -txn-max-records: \"many\" is not an integer"},
		{nil, map[string]string{"TXN_TIMEOUT": "soon"}, "environment variable TXN_TIMEOUT (twin of --txn-timeout): \"soon\" is not a duration"},
	}
	for _, tt := range tests {
		_, err := parse(t, tt.args, tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: error %v, want it to contain %q", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestBindFlagsSubset(t *testing.T) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("subset", flag.ContinueOnError)
	cfg.BindFlags(fs, "input-topic", "pipeline-name")
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n != 2 {
		t.Fatalf("bound %d flags, want 2", n)
	}
	// The environment fills only the options that are bound.
	err := cfg.ApplyEnv(fs, func(k string) (string, bool) {
		return map[string]string{"INPUT_TOPIC": "in2", "OUTPUT_TOPIC": "out2"}[k], k == "INPUT_TOPIC" || k == "OUTPUT_TOPIC"
	})
	if err != nil || cfg.InputTopic != "in2" || cfg.OutputTopic != "output-results" {
		t.Fatalf("err %v, input %q, output %q", err, cfg.InputTopic, cfg.OutputTopic)
	}
}

func TestValidBoundsAccepted(t *testing.T) {
	for _, args := range [][]string{
		{"--session-timeout", "6s"},
		{"--session-timeout", "30m"},
		{"--consumer-group", strings.Repeat("g", MaxIDBytes)},
		{"--transactional-id", strings.Repeat("t", MaxIDBytes)},
		{"--http-addr", "127.0.0.1:0"},
		{"--http-addr", ":65535"},
		{"--http-addr", "[::1]:8080"},
		{"--http-addr", ""},
	} {
		if _, err := parse(t, args, nil); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}

// TestSessionTimeoutRefusedAtRunTime checks that when the broker refuses
// the session timeout (its range is narrower than the default one Validate
// checks), the log names --session-timeout and the broker settings.
func TestSessionTimeoutRefusedAtRunTime(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(10*time.Second),
		kfake.SeedTopics(1, "input-events", "output-results", "error-events"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg, err := parse(t, []string{"--kafka-bootstrap-servers", c.ListenAddrs()[0], "--session-timeout", "7s", "--http-addr", ""}, nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	p, err := New(cfg, log, WithClientOpts(kgo.WithHooks(cfg.SessionTimeoutHook(log))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	want := "the broker refused --session-timeout 7s: it is outside the broker's group.min.session.timeout.ms to group.max.session.timeout.ms"
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), want) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	if !strings.Contains(logs.String(), want) {
		t.Errorf("the log does not say %q:\n%s", want, logs.String())
	}
}

// syncBuffer is a log sink a test reads while it is written.
type syncBuffer = syncbuf.Buffer

// TestConnectionOptions checks that the connection flags (package connect's
// table) are part of this one, with their env twins, and that their
// invalid combinations fail Validate naming the flag.
func TestConnectionOptions(t *testing.T) {
	dir := t.TempDir()
	pass := dir + "/password"
	if err := os.WriteFile(pass, []byte("s3cret-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parse(t, []string{"--sasl-mechanism", "SCRAM-SHA-512", "--tls"},
		map[string]string{"KAFKA_SASL_USERNAME": "alice", "KAFKA_SASL_PASSWORD_FILE": pass, "KAFKA_SASL_MECHANISM": "PLAIN"})
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Connect; !c.TLS || c.SASLMechanism != "SCRAM-SHA-512" || c.Username != "alice" || c.PasswordFile != pass {
		t.Errorf("connection options = %+v", c)
	}
	cfg, err = parse(t, []string{"--sasl-mechanism", "PLAIN", "--sasl-username", "bob"}, map[string]string{"KAFKA_SASL_PASSWORD": "s3cret-pass"})
	if err != nil || cfg.Connect.Password.Reveal() != "s3cret-pass" {
		t.Errorf("password from KAFKA_SASL_PASSWORD: err %v", err)
	}
	if s := fmt.Sprintf("%+v", cfg); strings.Contains(s, "s3cret-pass") {
		t.Errorf("the config prints the password: %s", s)
	}
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--tls-key-file", pass}, nil, "--tls-key-file: is set but --tls-cert-file is not"},
		{[]string{"--sasl-mechanism", "SCRAM-SHA-256"}, nil, "--sasl-username: SCRAM-SHA-256 needs a user name"},
		{nil, map[string]string{"KAFKA_TLS_CA_FILE": dir + "/none.pem"}, "--tls-ca-file: " + dir + "/none.pem: cannot read the CA file"},
		{[]string{"--tls-ca-file", pass}, nil, "--tls-ca-file: " + pass + ": holds no PEM certificate"},
		{[]string{"--sasl-mechanism", "KERBEROS"}, nil, `"KERBEROS" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER`},
	} {
		_, err := parse(t, tt.args, tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: error %v, want it to contain %q", tt.args, tt.env, err, tt.want)
		}
	}
	// A command that binds only some options (transform) takes no
	// connection option from the environment.
	sub := DefaultConfig()
	fs := flag.NewFlagSet("subset", flag.ContinueOnError)
	sub.BindFlags(fs, "input-topic")
	if err := sub.ApplyEnv(fs, func(k string) (string, bool) { return "x", true }); err != nil {
		t.Fatal(err)
	}
	if sub.Connect != (connect.Options{}) {
		t.Errorf("unbound connection options set from the environment: %+v", sub.Connect)
	}
}
