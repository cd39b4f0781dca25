package processor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestHints(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string // a substring of the hint; "" for none
	}{
		{kerr.CoordinatorNotAvailable, "offsets.topic.replication.factor"},
		{fmt.Errorf("beginning a transaction: %w", kerr.CoordinatorNotAvailable), "transaction.state.log.replication.factor"},
		{kerr.NotEnoughReplicas, "min.insync.replicas"},
		{kerr.UnknownTopicID, "ktool topics create"},
		{kerr.InvalidTransactionTimeout, "--txn-timeout"},
		{errors.New("something else"), ""},
		{nil, ""},
	} {
		if got := Hint(tc.err); tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("Hint(%v) = %q, want one containing %q", tc.err, got, tc.want)
		}
	}
}

// Every warning carrying a known error gets the hint, whoever logs it;
// other records are left alone.
func TestLoggerAddsHints(t *testing.T) {
	var buf bytes.Buffer
	cfg := DefaultConfig()
	cfg.LogFormat = "text"
	log, err := NewLogger(cfg, &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.With("instance", "a").Warn("transaction session failed", "err", fmt.Errorf("x: %w", kerr.CoordinatorNotAvailable))
	log.Info("not a warning", "err", kerr.CoordinatorNotAvailable)
	log.Warn("no known error", "err", errors.New("boom"))
	log.With("group", strings.Repeat("g", 40000)).Info("durations and long names", "backoff", 1500*time.Millisecond)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], "backoff=1.5s") || !strings.Contains(lines[3], "...(40000 bytes)") || len(lines[3]) > 600 || !strings.Contains(lines[0], "hint=") || !strings.Contains(lines[0], "instance=a") ||
		strings.Contains(lines[1], "hint=") || strings.Contains(lines[2], "hint=") {
		t.Errorf("log:\n%s", buf.String())
	}
}

func TestRecordLimitSaysWhatIsWrong(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "input-events", "output-results"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := DefaultConfig()
	cfg.Brokers = c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_, err = RecordLimit(t.Context(), kadm.NewClient(cl), cfg)
	var mt *MissingTopicError
	if !errors.As(err, &mt) || mt.Topic != "error-events" || !strings.Contains(err.Error(), "`ktool --brokers "+cfg.Brokers[0]+" topics create error-events --partitions 6`") {
		t.Errorf("missing error topic: %v", err)
	}

	cfg.Brokers = []string{"127.0.0.1:1"} // nothing listens there
	down, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.RetryTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	_, err = RecordLimit(ctx, kadm.NewClient(down), cfg)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Kafka brokers [127.0.0.1:1]") || strings.Contains(err.Error(), "shard errors") {
		t.Errorf("unreachable broker: %v", err)
	}
	t.Logf("unreachable broker: %v", err)
}
