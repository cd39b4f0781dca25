package ktool

import (
	"bytes"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"
)

// ktool runs the command in process and returns its output and exit status.
func ktool(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runContext(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestUsageErrors(t *testing.T) {
	// None of these reaches a broker: the address is never dialled.
	b := []string{"--brokers", "127.0.0.1:1"}
	tests := []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"no command", nil, []string{"missing command", "usage: ktool"}},
		{"unknown command", []string{"prodcue"}, []string{`unknown command "prodcue"`}},
		{"unknown top flag", []string{"--nope", "topics", "list"}, []string{"flag provided but not defined: -nope"}},
		{"produce no topic", append([]string{"produce"}, b...), []string{"ktool produce: missing TOPIC", "usage: ktool produce TOPIC VALUE", "ktool produce -h"}},
		{"produce no value", append([]string{"produce", "t"}, b...), []string{"missing VALUE: give a value, - to read it from stdin, or --file FILE"}},
		{"produce value and file", append([]string{"produce", "t", "v", "--file", "x.json"}, b...), []string{"either VALUE or --file, not both"}},
		{"produce too many", append([]string{"produce", "t", "a", "b"}, b...), []string{"too many arguments (3); quote a VALUE"}},
		{"produce raw without file", append([]string{"produce", "t", "v", "--raw"}, b...), []string{"--raw only applies to --file"}},
		{"produce bad header", append([]string{"produce", "t", "v", "--header", "novalue"}, b...), []string{`--header: want KEY=VALUE, got "novalue"`}},
		{"produce bad raw", append([]string{"produce", "t", "--file", "x", "--raw=maybe"}, b...), []string{`--raw: "maybe" is not true or false`}},
		{"produce key without value", append(append([]string{"produce", "t", "v"}, b...), "--key"), []string{"--key needs a value"}},
		{"produce unknown flag", append([]string{"produce", "t", "v", "--partition", "1"}, b...), []string{"flag provided but not defined: -partition"}},
		{"consume no topic", append([]string{"consume"}, b...), []string{"ktool consume: missing TOPIC"}},
		{"consume two topics", append([]string{"consume", "a", "b"}, b...), []string{"consume reads one topic"}},
		{"consume bad offset", append([]string{"consume", "t", "--offset", "middle"}, b...), []string{`--offset must be beginning, end, N`, `got "middle"`}},
		{"consume bad isolation", append([]string{"consume", "t", "--isolation", "committed"}, b...), []string{`--isolation must be read_committed or read_uncommitted, got "committed"`}},
		{"consume bad format", append([]string{"consume", "t", "--format", "yaml"}, b...), []string{`--format must be pretty, json or value, got "yaml"`}},
		{"consume negative max", append([]string{"consume", "t", "--max", "-1"}, b...), []string{"--max must be 0 (no limit) or more"}},
		{"consume bad max", append([]string{"consume", "t", "--max", "ten"}, b...), []string{`--max: "ten" is not a whole number; want 0 (no limit) or more`}},
		{"consume negative timeout", append([]string{"consume", "t", "--timeout", "-1s"}, b...), []string{"--timeout must be 0"}},
		{"consume bad timeout", append([]string{"consume", "t", "--timeout", "5"}, b...), []string{`--timeout: "5" is not a duration; want a number with a unit, e.g. 500ms, 5s or 1m`}},
		{"topics alone", []string{"topics"}, []string{"the subcommand comes first: list, create or describe"}},
		{"topics unknown", []string{"topics", "delete", "x"}, []string{`unknown subcommand "delete"`}},
		{"topics list args", append([]string{"topics", "list", "x"}, b...), []string{"topics list takes no arguments"}},
		{"topics create no topic", append([]string{"topics", "create"}, b...), []string{"ktool topics create: missing TOPIC"}},
		{"topics create zero partitions", append([]string{"topics", "create", "x", "--partitions", "0"}, b...), []string{"--partitions must be from 1 to 2147483647 (leave it out for the broker's num.partitions), got 0"}},
		{"topics create negative partitions", append([]string{"topics", "create", "x", "--partitions", "-1"}, b...), []string{"--partitions must be from 1 to 2147483647", "got -1"}},
		{"topics create bad partitions", append([]string{"topics", "create", "x", "--partitions", "x"}, b...), []string{`--partitions: "x" is not a whole number; want 1 to 2147483647`}},
		{"topics create negative rf", append([]string{"topics", "create", "x", "--replication-factor", "-1"}, b...), []string{"--replication-factor must be from 1 to 32767", "got -1"}},
		{"topics create rf too large", append([]string{"topics", "create", "x", "--replication-factor", "40000"}, b...), []string{"--replication-factor must be from 1 to 32767", "got 40000"}},
		{"topics create twice", append([]string{"topics", "create", "a", "b", "a"}, b...), []string{"topic a is named twice"}},
		{"topics create bad rf", append([]string{"topics", "create", "x", "--replication-factor", "-3"}, b...), []string{"--replication-factor must be from 1 to 32767 (leave it out for the broker's default.replication.factor), got -3"}},
		{"topics create bad config", append([]string{"topics", "create", "x", "--config", "retention.ms"}, b...), []string{`--config: want KEY=VALUE, got "retention.ms"`}},
		{"topics describe no topic", append([]string{"topics", "describe"}, b...), []string{"ktool topics describe: missing TOPIC"}},
		{"lag no group", append([]string{"lag"}, b...), []string{"ktool lag: missing GROUP"}},
		{"lag two groups", append([]string{"lag", "a", "b"}, b...), []string{"lag shows one group"}},
		{"zero connect timeout", []string{"topics", "list", "--connect-timeout", "0s"}, []string{"--connect-timeout must be more than 0"}},
		{"bad connect timeout", []string{"--connect-timeout", "10", "topics", "list"}, []string{`--connect-timeout: "10" is not a duration`}},
		{"brokers too many colons", []string{"--brokers", "a:b:c", "topics", "list"}, []string{`--brokers: "a:b:c" is not host:port`, "a port from 1 to 65535"}},
		{"brokers no port", []string{"topics", "list", "--brokers", "kafka"}, []string{`--brokers: "kafka" is not host:port`}},
		{"brokers bad port", []string{"lag", "g", "--brokers", "127.0.0.1:1,127.0.0.1:99999"}, []string{`--brokers: "127.0.0.1:99999" has port "99999"`}},
		{"brokers no host", []string{"consume", "t", "--brokers", ":9092"}, []string{`--brokers: ":9092" is not host:port`}},
		{"help unknown", []string{"help", "nope"}, []string{`unknown command "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := ktool(t, "", tt.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			if stdout != "" {
				t.Errorf("stdout should be empty on a usage error, got:\n%s", stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"usage: ktool", "topics describe", "KAFKA_BOOTSTRAP_SERVERS"}},
		{[]string{"help"}, []string{"usage: ktool"}},
		{[]string{"help", "consume"}, []string{"usage: ktool consume TOPIC", "--isolation level", "(default read_committed)", "(default 5s)"}},
		{[]string{"produce", "-h"}, []string{"--file file", "--key key", "--header KEY=VALUE", "--raw"}},
		{[]string{"consume", "t", "--help"}, []string{"--offset where", "--group group"}},
		{[]string{"topics", "-h"}, []string{"ktool topics create TOPIC..."}},
		{[]string{"help", "topics"}, []string{"ktool topics describe TOPIC..."}},
		{[]string{"topics", "create", "-h"}, []string{"--partitions partitions", "--config KEY=VALUE", "--if-not-exists"}},
		{[]string{"topics", "describe", "-h"}, []string{"--all-configs"}},
		{[]string{"topics", "list", "-h"}, []string{"--internal"}},
		{[]string{"help", "lag"}, []string{"usage: ktool lag GROUP", "--brokers addresses"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code := ktool(t, "", tt.args...)
			if code != exitOK {
				t.Errorf("exit status %d, want 0; stderr:\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("help does not say %q:\n%s", w, stdout)
				}
			}
		})
	}
}

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantKey string
		wantMax int
	}{
		{[]string{"topic", "value"}, []string{"topic", "value"}, "", 0},
		{[]string{"topic", "--key", "k", "value"}, []string{"topic", "value"}, "k", 0},
		{[]string{"--max", "3", "topic", "--key=k"}, []string{"topic"}, "k", 3},
		{[]string{"topic", "-"}, []string{"topic", "-"}, "", 0},
		{[]string{"topic", "--", "--key", "-x"}, []string{"topic", "--key", "-x"}, "", 0},
		{[]string{"--key", "-starts-with-dash", "t"}, []string{"t"}, "-starts-with-dash", 0},
		{nil, nil, "", 0},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		key := fs.String("key", "", "")
		maxN := fs.Int("max", 0, "")
		pos, err := parseInterleaved(fs, tt.args)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !slices.Equal(pos, tt.wantPos) || *key != tt.wantKey || *maxN != tt.wantMax {
			t.Errorf("%q: got positional %q key %q max %d, want %q %q %d", tt.args, pos, *key, *maxN, tt.wantPos, tt.wantKey, tt.wantMax)
		}
	}
}

func TestBrokersPrecedence(t *testing.T) {
	t.Setenv(envBrokers, "")
	e := &env{}
	if got := e.seeds(); !slices.Equal(got, []string{"localhost:9092"}) {
		t.Errorf("default: %q", got)
	}
	t.Setenv(envBrokers, "10.0.0.1:9092, 10.0.0.2:9092")
	if got := e.seeds(); !slices.Equal(got, []string{"10.0.0.1:9092", "10.0.0.2:9092"}) {
		t.Errorf("env: %q", got)
	}
	e.brokers = "127.0.0.1:19092"
	if got := e.seeds(); !slices.Equal(got, []string{"127.0.0.1:19092"}) {
		t.Errorf("flag over env: %q", got)
	}
}

// TestCommonFlagsAnywhere checks --brokers is honoured before the command
// and after it, by where the unreachable-broker message says it dialled.
func TestCommonFlagsAnywhere(t *testing.T) {
	t.Setenv(envBrokers, "127.0.0.1:2")
	for _, args := range [][]string{
		{"--brokers", "127.0.0.1:1", "topics", "list"},
		{"topics", "list", "--brokers", "127.0.0.1:1"},
		{"--brokers=127.0.0.1:3", "lag", "g", "--brokers", "127.0.0.1:1"},
	} {
		_, stderr, code := ktool(t, "", args...)
		if code != exitRuntime || !strings.Contains(stderr, "cannot reach Kafka at 127.0.0.1:1 ") {
			t.Errorf("%q: exit %d, stderr %s", args, code, stderr)
		}
	}
	_, stderr, _ := ktool(t, "", "topics", "list")
	if !strings.Contains(stderr, "cannot reach Kafka at 127.0.0.1:2 ") {
		t.Errorf("env not used: %s", stderr)
	}
}

func TestParseOffset(t *testing.T) {
	for _, s := range []string{"beginning", "start", "earliest", "end", "latest", "0", "42", "-10"} {
		if _, err := parseOffset(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "begin", "1.5", "ten", "+-1"} {
		if _, err := parseOffset(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

func TestUnreachableIsBounded(t *testing.T) {
	start := time.Now()
	_, stderr, code := ktool(t, "", "produce", "t", "v", "--brokers", "127.0.0.1:1", "--connect-timeout", "2s")
	if code != exitRuntime {
		t.Errorf("exit %d, want 1", code)
	}
	for _, w := range []string{"cannot reach Kafka at 127.0.0.1:1 within 2s", "check that a broker is running", "KAFKA_BOOTSTRAP_SERVERS"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not say %q: %s", w, stderr)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to give up", d)
	}
}

// TestBrokersFromEnvValidated checks that a bad KAFKA_BOOTSTRAP_SERVERS is a
// usage error that names the variable, before any broker is dialled.
func TestBrokersFromEnvValidated(t *testing.T) {
	t.Setenv(envBrokers, "127.0.0.1:9092,a:b:c")
	_, stderr, code := ktool(t, "", "topics", "list")
	if code != exitUsage || !strings.Contains(stderr, `KAFKA_BOOTSTRAP_SERVERS: "a:b:c" is not host:port`) {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
	// --brokers beats the environment, so a bad variable is not used.
	_, stderr, code = ktool(t, "", "topics", "list", "--brokers", "127.0.0.1:1")
	if code != exitRuntime || !strings.Contains(stderr, "cannot reach Kafka at 127.0.0.1:1 ") {
		t.Errorf("with --brokers: exit %d, stderr %s", code, stderr)
	}
}

// TestConnectionFlags checks that every command takes event-processor's
// connection flags and their environment twins, and refuses combinations
// that cannot work with status 2, naming the flag, before dialling.
func TestConnectionFlags(t *testing.T) {
	t.Setenv("KAFKA_SASL_PASSWORD", "hunter2-secret")
	b := []string{"--brokers", "127.0.0.1:1"}
	tests := []struct {
		args []string
		want string
	}{
		{append([]string{"topics", "list", "--tls-key-file", "/nonexistent/user.key"}, b...), "--tls-key-file: is set but --tls-cert-file is not"},
		{append([]string{"--sasl-mechanism", "SCRAM-SHA-512", "lag", "g"}, b...), "--sasl-username: SCRAM-SHA-512 needs a user name"},
		{append([]string{"consume", "t", "--tls-ca-file", "/nonexistent/ca.crt"}, b...), "--tls-ca-file: /nonexistent/ca.crt: cannot read the CA file"},
		{append([]string{"produce", "t", "v", "--sasl-mechanism", "GSSAPI"}, b...), `--sasl-mechanism: "GSSAPI" is not one of`},
		{append([]string{"verify", "--sasl-username", "alice"}, b...), "--sasl-username: is set but --sasl-mechanism is not"},
	}
	for _, tt := range tests {
		stdout, stderr, code := ktool(t, "", tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %s; want %d and %q", tt.args, code, stderr, exitUsage, tt.want)
		}
		if strings.Contains(stdout+stderr, "hunter2-secret") {
			t.Errorf("%q: the password is printed", tt.args)
		}
	}
	t.Setenv("KAFKA_TLS", "maybe")
	if _, stderr, code := ktool(t, "", "topics", "list"); code != exitUsage || !strings.Contains(stderr, "environment variable KAFKA_TLS (twin of --tls)") {
		t.Errorf("KAFKA_TLS=maybe: exit %d, stderr %s", code, stderr)
	}
	t.Setenv("KAFKA_TLS", "")
	stdout, _, _ := ktool(t, "", "consume", "-h")
	for _, want := range []string{"--sasl-mechanism", "(env KAFKA_SASL_MECHANISM)", "--tls-cert-file", "KAFKA_SASL_PASSWORD"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("consume -h does not show %q", want)
		}
	}
}
