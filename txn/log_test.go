package txn

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// The Kafka client's misleading or per-partition wording is rewritten or
// demoted; everything else passes at Warn and above.
func TestKgoWording(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(kgoHandler{minLevelHandler{slog.NewTextHandler(&buf, nil), slog.LevelWarn}}).With("component", "kgo")
	log.Warn("produce partition load error, bumping error count on first stored batch", "topic", "out", "partition", 1)
	log.Warn("read from broker errored, killing connection after 0 successful responses (is SASL missing?)", "addr", "127.0.0.1:1")
	log.Warn("something else", "k", "v")
	log.Info("an info line")
	out := buf.String()
	switch {
	case strings.Contains(out, "bumping error count"):
		t.Errorf("the per-partition produce retry line was not demoted:\n%s", out)
	case strings.Contains(out, "is SASL missing?") || !strings.Contains(out, "it may be restarting, or the listener needs TLS or SASL") || !strings.Contains(out, "addr=127.0.0.1:1"):
		t.Errorf("the first-read line was not rewritten with its attributes:\n%s", out)
	case !strings.Contains(out, "something else") || strings.Contains(out, "an info line") || strings.Count(out, "component=kgo") != 2:
		t.Errorf("other records: want Warn and above, with their attributes:\n%s", out)
	}
}
