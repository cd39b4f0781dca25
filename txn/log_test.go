package txn

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// The Kafka client's misleading or per-partition wording is rewritten or
// demoted; its Info lines are the application's Debug, its Debug lines are
// dropped, Warn and above pass.
func TestKgoWording(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var buf bytes.Buffer
		log := slog.New(kgoHandler{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level})}).With("component", "kgo")
		log.Warn("produce partition load error, bumping error count on first stored batch", "topic", "out", "partition", 1)
		log.Warn("read from broker errored, killing connection after 0 successful responses (is SASL missing?)", "addr", "127.0.0.1:1")
		log.Warn("read from broker received EOF during api versions discovery, which often happens when the broker requires TLS and the client is not using it (is TLS misconfigured?)", "broker", 3)
		log.Warn("something else", "k", "v")
		log.Info("an info line", "k", "v")
		log.Debug("a debug line")
		out := buf.String()
		debug := level == slog.LevelDebug
		switch {
		case strings.Contains(out, "bumping error count") != debug,
			debug && !strings.Contains(out, `level=DEBUG msg="produce partition load error`):
			t.Errorf("at %v the per-partition produce retry line was not demoted to Debug:\n%s", level, out)
		case strings.Contains(out, "is SASL missing?") || !strings.Contains(out, "level=WARN msg=\"a broker closed a new connection before answering: it may be restarting, or the listener needs TLS or SASL") || !strings.Contains(out, "addr=127.0.0.1:1"):
			t.Errorf("at %v the first-read line was not rewritten with its attributes:\n%s", level, out)
		case strings.Contains(out, "is TLS misconfigured?") || !strings.Contains(out, `level=WARN msg="a broker closed a new connection during its first exchange: it may be restarting, or the listener needs TLS (see --tls)" component=kgo broker=3`):
			t.Errorf("at %v the api versions EOF line was not rewritten with its attributes:\n%s", level, out)
		case !strings.Contains(out, `level=WARN msg="something else" component=kgo k=v`):
			t.Errorf("at %v a Warn line did not pass with its attributes:\n%s", level, out)
		case strings.Contains(out, "an info line") != debug,
			debug && !strings.Contains(out, `level=DEBUG msg="an info line" component=kgo k=v`):
			t.Errorf("at %v kgo's Info line: want it at Debug, shown only at Debug:\n%s", level, out)
		case strings.Contains(out, "a debug line"):
			t.Errorf("at %v kgo's Debug line was not dropped:\n%s", level, out)
		}
	}
}
