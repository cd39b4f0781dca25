package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKtool runs the ktool binary against the real broker, one subtest per
// subcommand and error case. The binary is built once, from this checkout.
func TestKtool(t *testing.T) {
	k := &ktoolRunner{bin: buildKtool(t), addr: broker.Addr}

	t.Run("ProduceValue", func(t *testing.T) {
		k.mustRun(t, "", "topics", "create", "ktool-value", "--partitions", "3")
		out := k.mustRun(t, "", "produce", "ktool-value", `{"id":"test-1","type":"user-action","timestamp":1733328000000,"data":{"action":"click","userId":42}}`,
			"--key", "test-1", "--header", "source=ktool")
		if !regexp.MustCompile(`^ktool-value: partition [0-2], offset 0\n$`).MatchString(out) {
			t.Errorf("produce reported %q", out)
		}
		k.mustRun(t, "", "produce", "ktool-value", "this is not valid JSON", "--key", "test-1")
		k.mustRun(t, "{\"id\":\"from-stdin\"}\n", "produce", "ktool-value", "-", "--key", "test-1")

		out = k.mustRun(t, "", "consume", "ktool-value", "--offset", "beginning", "--max", "3", "--format", "json")
		rs := ktoolJSONLines(t, out)
		want := []string{`{"id":"test-1","type":"user-action","timestamp":1733328000000,"data":{"action":"click","userId":42}}`,
			`"this is not valid JSON"`, `{"id":"from-stdin"}`}
		if got := ktoolValues(rs, false); !slices.Equal(got, want) { // one key: one partition, in order
			t.Errorf("consumed\n got %q\nwant %q", got, want)
		}
		for i, r := range rs {
			if r.Key == nil || *r.Key != "test-1" || r.Offset != int64(i) || r.Partition != rs[0].Partition {
				t.Errorf("record %d: key, partition or offset wrong: %+v", i, r)
			}
		}
		if len(rs) > 0 && rs[0].Headers["source"] != "ktool" {
			t.Errorf("header lost: %+v", rs[0])
		}

		out = k.mustRun(t, "", "consume", "ktool-value", "--max", "3")
		for _, w := range []string{"--- ktool-value partition ", "key:     test-1", "headers: source=ktool", "  \"type\": \"user-action\",", "\nthis is not valid JSON\n"} {
			if !strings.Contains(out, w) {
				t.Errorf("pretty output lacks %q:\n%s", w, out)
			}
		}
	})

	t.Run("ProduceFile", func(t *testing.T) {
		k.mustRun(t, "", "topics", "create", "ktool-file", "--partitions", "2")
		dir := t.TempDir()
		array := filepath.Join(dir, "sample-events.json")
		writeKtoolFile(t, array, "[\n  {\"id\": \"arr-1\", \"type\": \"user-action\"},\n  {\"id\": \"arr-2\",\n   \"data\": {\"n\": 1.50}},\n  \"a string\"\n]\n")
		out := k.mustRun(t, "", "produce", "ktool-file", "--file", array)
		if n := len(regexp.MustCompile(`(?m)^record \d: partition [01], offset \d+$`).FindAllString(out, -1)); n != 3 ||
			!strings.Contains(out, "wrote 3 records from "+array+" to ktool-file") {
			t.Errorf("produce --file (array) reported:\n%s", out)
		}
		lines := filepath.Join(dir, "events.jsonl")
		writeKtoolFile(t, lines, "{\"id\":\"line-1\"}\r\n\n  \n{\"id\": \"line-2\"}\n")
		out = k.mustRun(t, "", "produce", "ktool-file", "--file", lines, "--key", "lines")
		if !strings.Contains(out, "wrote 2 records from "+lines) {
			t.Errorf("produce --file (lines) reported:\n%s", out)
		}

		out = k.mustRun(t, "", "consume", "ktool-file", "--offset", "beginning", "--max", "5", "--format", "json")
		want := []string{`"a string"`, `{"id":"arr-1","type":"user-action"}`, `{"id":"arr-2","data":{"n":1.50}}`, `{"id":"line-1"}`, `{"id":"line-2"}`}
		if got := ktoolValues(ktoolJSONLines(t, out), true); !slices.Equal(got, want) {
			t.Errorf("consumed\n got %q\nwant %q", got, want)
		}

		bad := filepath.Join(dir, "bad.json")
		writeKtoolFile(t, bad, "[\n  {\"id\": \"ok\"},\n  {\"id\": oops}\n]\n")
		r := k.run(t, "", "produce", "ktool-file", "--file", bad)
		if r.code != 1 || !strings.Contains(r.stderr, bad+": array element 2 (line 3, column 10): not valid JSON") {
			t.Errorf("bad file: exit %d, stderr %s", r.code, r.stderr)
		}
		r = k.run(t, "", "produce", "ktool-file", "--file", filepath.Join(dir, "missing.json"))
		if r.code != 1 || !strings.Contains(r.stderr, "missing.json does not exist") {
			t.Errorf("missing file: exit %d, stderr %s", r.code, r.stderr)
		}
	})

	t.Run("ConsumeIsolation", func(t *testing.T) {
		const topic = "ktool-txn"
		k.mustRun(t, "", "topics", "create", topic, "--partitions", "2")
		cl, err := broker.Client(kgo.TransactionalID("ktool-txn-producer"), kgo.DefaultProduceTopic(topic))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for _, tx := range []struct {
			prefix string
			end    kgo.TransactionEndTry
		}{{"committed", kgo.TryCommit}, {"aborted", kgo.TryAbort}} {
			if err := cl.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if err := cl.ProduceSync(t.Context(), kgo.StringRecord(fmt.Sprintf("%s-%d", tx.prefix, i))).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			if err := cl.EndTransaction(t.Context(), tx.end); err != nil {
				t.Fatal(err)
			}
		}
		committed := []string{"committed-0", "committed-1", "committed-2", "committed-3", "committed-4"}
		all := append([]string{"aborted-0", "aborted-1", "aborted-2", "aborted-3", "aborted-4"}, committed...)
		for _, tt := range []struct {
			flags []string
			want  []string
		}{
			{[]string{"--timeout", "3s"}, committed}, // read_committed is the default
			{[]string{"--isolation", "read_committed", "--timeout", "3s"}, committed},
			{[]string{"--isolation", "read_uncommitted", "--max", "10"}, all},
		} {
			out := k.mustRun(t, "", append([]string{"consume", topic, "--offset", "beginning", "--format", "json"}, tt.flags...)...)
			if got := ktoolValues(ktoolJSONLines(t, out), true); !slices.Equal(got, quoteAll(tt.want)) {
				t.Errorf("%q:\n got %q\nwant %q", tt.flags, got, tt.want)
			}
		}
	})

	t.Run("ConsumeOffsets", func(t *testing.T) {
		// One partition of transactions of one record each: a marker after
		// every record, so the end offset less N is not the last N records.
		const topic = "ktool-txn-offsets"
		k.mustRun(t, "", "topics", "create", topic, "--partitions", "1")
		cl, err := broker.Client(kgo.TransactionalID("ktool-offsets-producer"), kgo.DefaultProduceTopic(topic))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for _, tx := range []struct {
			value string
			end   kgo.TransactionEndTry
		}{{"a", kgo.TryCommit}, {"b", kgo.TryCommit}, {"c", kgo.TryCommit}, {"d", kgo.TryAbort}} {
			if err := cl.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			if err := cl.ProduceSync(t.Context(), kgo.StringRecord(tx.value)).FirstErr(); err != nil {
				t.Fatal(err)
			}
			if err := cl.EndTransaction(t.Context(), tx.end); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range []struct {
			flags []string
			want  []string
		}{
			{[]string{"--offset", "-1"}, []string{"c"}},
			{[]string{"--offset", "-2"}, []string{"b", "c"}},
			{[]string{"--offset", "-50"}, []string{"a", "b", "c"}},
			{[]string{"--offset", "-2", "--isolation", "read_uncommitted"}, []string{"c", "d"}},
			{[]string{"--offset", "2"}, []string{"b", "c"}},
			{[]string{"--offset", "100"}, nil}, // clamped to the end, not replayed
		} {
			out := k.mustRun(t, "", append([]string{"consume", topic, "--format", "value", "--timeout", "2s"}, tt.flags...)...)
			if got := strings.Fields(out); !slices.Equal(got, tt.want) {
				t.Errorf("%q: got %q, want %q", tt.flags, got, tt.want)
			}
		}
	})

	t.Run("ProduceLargeRecord", func(t *testing.T) {
		k.mustRun(t, "", "topics", "create", "ktool-large", "--partitions", "1", "--config", "max.message.bytes=3000000")
		k.mustRun(t, "", "topics", "create", "ktool-small", "--partitions", "1")
		big := strings.Repeat("x", 2_000_000)
		if out := k.mustRun(t, big, "produce", "ktool-large", "-"); !strings.Contains(out, "ktool-large: partition 0, offset 0") {
			t.Errorf("2 MB to a topic allowing 3 MB: %s", out)
		}
		r := k.run(t, big, "produce", "ktool-small", "-")
		if r.code != 1 || !strings.Contains(r.stderr, "larger than topic ktool-small's max.message.bytes") {
			t.Errorf("2 MB to a topic with the default limit: exit %d, %s", r.code, r.stderr)
		}
	})

	t.Run("Topics", func(t *testing.T) {
		out := k.mustRun(t, "", "topics", "create", "ktool-created", "--partitions", "3", "--replication-factor", "1",
			"--config", "retention.ms=3600000", "--config", "cleanup.policy=compact")
		if !strings.Contains(out, "created topic ktool-created: 3 partitions, replication factor 1") {
			t.Errorf("create reported %q", out)
		}
		r := k.run(t, "", "topics", "create", "ktool-created")
		if r.code != 1 || !strings.Contains(r.stderr, "topic ktool-created already exists") {
			t.Errorf("create again: exit %d, stderr %s", r.code, r.stderr)
		}
		k.mustRun(t, "", "topics", "create", "ktool-created", "--if-not-exists")
		r = k.run(t, "", "topics", "create", "ktool-bad-config", "--config", "retention.ms=soon")
		if r.code != 1 || !strings.Contains(r.stderr, "creating topic ktool-bad-config: INVALID_CONFIG") {
			t.Errorf("create with a bad config: exit %d, stderr %s", r.code, r.stderr)
		}

		out = k.mustRun(t, "", "topics", "list")
		if !regexp.MustCompile(`(?m)^ktool-created +3 +1$`).MatchString(out) || strings.Contains(out, "\n__") {
			t.Errorf("topics list:\n%s", out)
		}
		adm, err := broker.Admin()
		if err != nil {
			t.Fatal(err)
		}
		defer adm.Close()
		tds, err := adm.ListTopicsWithInternal(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out = k.mustRun(t, "", "topics", "list", "--internal")
		for _, name := range tds.Names() {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +\d+ +1$`).MatchString(out) {
				t.Errorf("topics list --internal does not list %s:\n%s", name, out)
			}
		}

		out = k.mustRun(t, "", "topics", "describe", "ktool-created")
		for _, re := range []string{
			`(?m)^topic: +ktool-created$`, `(?m)^partitions: +3$`, `(?m)^replication factor: +1$`,
			`(?m)^0 +1 +1 +1 +0 +0$`, `(?m)^1 +1 +1 +1 +0 +0$`, `(?m)^2 +1 +1 +1 +0 +0$`,
			`(?m)^  cleanup.policy=compact$`, `(?m)^  retention.ms=3600000$`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("describe does not match %s:\n%s", re, out)
			}
		}
		out = k.mustRun(t, "", "topics", "describe", "ktool-created", "--all-configs")
		if !regexp.MustCompile(`(?m)^  retention.ms=3600000 +topic$`).MatchString(out) ||
			!regexp.MustCompile(`(?m)^  segment.bytes=\d+ +`).MatchString(out) {
			t.Errorf("describe --all-configs:\n%s", out)
		}
	})

	t.Run("Lag", func(t *testing.T) {
		const topic, group = "ktool-lag", "ktool-lag-group"
		k.mustRun(t, "", "topics", "create", topic, "--partitions", "1")
		var lines strings.Builder
		for i := range 10 {
			fmt.Fprintf(&lines, "{\"n\":%d}\n", i)
		}
		k.mustRun(t, lines.String(), "produce", topic, "--file", "-")
		r := k.run(t, "", "consume", topic, "--group", group, "--max", "4", "--format", "value")
		if r.code != 0 || !strings.Contains(r.stderr, "4 records from ktool-lag (reached --max 4)") {
			t.Fatalf("consume --group: exit %d, stderr %s", r.code, r.stderr)
		}
		out := k.mustRun(t, "", "lag", group)
		for _, re := range []string{
			`(?m)^group ktool-lag-group: state Empty, 0 members$`,
			`(?m)^TOPIC +PARTITION +COMMITTED +END +LAG +MEMBER$`,
			`(?m)^ktool-lag +0 +4 +10 +6 +-$`,
			`(?m)^TOTAL +6$`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("lag does not match %s:\n%s", re, out)
			}
		}
		// The group resumes at its commit.
		out = k.mustRun(t, "", "consume", topic, "--group", group, "--max", "1", "--format", "value")
		if out != "{\"n\":4}\n" {
			t.Errorf("resumed consume read %q, want {\"n\":4}", out)
		}
		r = k.run(t, "", "lag", "ktool-no-such-group")
		if r.code != 1 || !strings.Contains(r.stderr, "consumer group ktool-no-such-group does not exist") {
			t.Errorf("lag of an unknown group: exit %d, stderr %s", r.code, r.stderr)
		}
	})

	t.Run("MissingTopic", func(t *testing.T) {
		for _, args := range [][]string{
			{"produce", "ktool-absent", "v"},
			{"consume", "ktool-absent"},
			{"topics", "describe", "ktool-absent"},
		} {
			r := k.run(t, "", args...)
			want := "topic ktool-absent does not exist; create it with `ktool topics create ktool-absent`"
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("%q: exit %d, stderr %q; want 1 and %q", args, r.code, r.stderr, want)
			}
		}
	})

	t.Run("UnreachableBroker", func(t *testing.T) {
		dead := ktoolClosedAddr(t)
		for _, args := range [][]string{
			{"produce", "ktool-value", "v"},
			{"consume", "ktool-value"},
			{"topics", "list"},
			{"lag", "g"},
		} {
			start := time.Now()
			r := k.runAt(t, dead, nil, "", args...)
			if r.code != 1 || !strings.Contains(r.stderr, "cannot reach Kafka at "+dead+" within 10s") ||
				!strings.Contains(r.stderr, "check that a broker is running") {
				t.Errorf("%q: exit %d, stderr %s", args, r.code, r.stderr)
			}
			if d := time.Since(start); d > 12*time.Second {
				t.Errorf("%q: took %s to fail", args, d)
			}
		}
	})

	t.Run("BrokersFromEnv", func(t *testing.T) {
		r := k.runAt(t, "", []string{"KAFKA_BOOTSTRAP_SERVERS=" + broker.Addr}, "", "topics", "list")
		if r.code != 0 || !strings.Contains(r.stdout, "TOPIC") {
			t.Errorf("exit %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("UsageError", func(t *testing.T) {
		r := k.run(t, "", "consume", "ktool-value", "--isolation", "dirty")
		if r.code != 2 || !strings.Contains(r.stderr, "--isolation must be read_committed or read_uncommitted") {
			t.Errorf("exit %d, stderr %s", r.code, r.stderr)
		}
		r = k.runAt(t, "a:b:c", nil, "", "topics", "list")
		if r.code != 2 || !strings.Contains(r.stderr, `--brokers: "a:b:c" is not host:port`) {
			t.Errorf("--brokers a:b:c: exit %d, stderr %s", r.code, r.stderr)
		}
		r = k.run(t, "", "topics", "create", "ktool-negative", "--partitions", "-1")
		if r.code != 2 || !strings.Contains(r.stderr, "--partitions must be from 1 to") {
			t.Errorf("--partitions -1: exit %d, stderr %s", r.code, r.stderr)
		}
	})
}

// buildKtool builds cmd/ktool from this module into a temporary directory.
func buildKtool(t *testing.T) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(t.TempDir(), "ktool")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ktool")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building ktool: %v\n%s", err, out)
	}
	return bin
}

type ktoolRunner struct {
	bin  string
	addr string
}

type ktoolResult struct {
	stdout, stderr string
	code           int
}

// run runs ktool against the shared broker.
func (k *ktoolRunner) run(t *testing.T, stdin string, args ...string) ktoolResult {
	t.Helper()
	return k.runAt(t, k.addr, nil, stdin, args...)
}

// runAt runs ktool with --brokers addr (none if addr is empty) and extra
// environment; KAFKA_BOOTSTRAP_SERVERS from the test's own environment is
// never passed on.
func (k *ktoolRunner) runAt(t *testing.T, addr string, env []string, stdin string, args ...string) ktoolResult {
	t.Helper()
	if addr != "" {
		args = append(args, "--brokers", addr)
	}
	cmd := exec.CommandContext(t.Context(), k.bin, args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "KAFKA_BOOTSTRAP_SERVERS=") })
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := ktoolResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running ktool %q: %v", args, err)
	}
	return r
}

func (k *ktoolRunner) mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := k.run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("ktool %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// ktoolRecord is one line of ktool consume --format json.
type ktoolRecord struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp string            `json:"timestamp"`
	Key       *string           `json:"key"`
	Headers   map[string]string `json:"headers"`
	Value     json.RawMessage   `json:"value"`
}

func ktoolJSONLines(t *testing.T, out string) []ktoolRecord {
	t.Helper()
	var rs []ktoolRecord
	for line := range strings.Lines(out) {
		var r ktoolRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("consume --format json printed a line that is not JSON (%v): %s", err, line)
		}
		if r.Topic == "" || r.Timestamp == "" || r.Headers == nil {
			t.Errorf("consume --format json line lacks topic, timestamp or headers: %s", line)
		}
		rs = append(rs, r)
	}
	return rs
}

func ktoolValues(rs []ktoolRecord, sorted bool) []string {
	var vs []string
	for _, r := range rs {
		vs = append(vs, string(r.Value))
	}
	if sorted {
		slices.Sort(vs)
	}
	return vs
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		b, _ := json.Marshal(s)
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

func writeKtoolFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ktoolClosedAddr returns a 127.0.0.1 address nothing listens on.
func ktoolClosedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
