package txn

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Rebuild closes the session between transactions and builds a new one
// with SessionOpts called again, without a backoff, and nothing is lost or
// repeated across it.
func TestRebuildRequested(t *testing.T) {
	t.Parallel()
	const n = 600
	c := newCluster(t)
	produceInput(t, c, inTopic, 0, n/2)

	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	var built atomic.Int32
	cfg.SessionOpts = func() []kgo.Opt {
		built.Add(1)
		return []kgo.Opt{kgo.ProducerBatchMaxBytes(64 << 10)}
	}
	l, err := New(cfg, identity)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v", err)
		}
	}()

	waitCommitted(t, c, n/2/3, 15*time.Second)
	l.Rebuild(errors.New("the test asks"))
	eventually(t, 15*time.Second, "a second session", func() bool { return built.Load() == 2 })
	if got := obs.rebuilds.Load(); got != 1 {
		t.Errorf("%d rebuilds reported, want 1", got)
	}
	produceInput(t, c, inTopic, n/2, n/2)
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 15*time.Second), n)
}
