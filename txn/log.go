package txn

import (
	"context"
	"log/slog"
	"time"
)

// kgoWording rewrites the Kafka client's internal wording that reads as a
// problem it is not, or blames the wrong thing, at Warn and above. Each
// entry is matched on the whole message and gives the record's level; an
// empty msg keeps its wording.
var kgoWording = map[string]struct {
	msg   string
	level slog.Level
}{
	// Logged for every partition on every retry of a produce to a
	// missing or unreachable partition; the loop reports the failed
	// transaction itself, with the error, once.
	"produce partition load error, bumping error count on first stored batch": {"", slog.LevelDebug},
	// The usual cause here is a broker restarting or a listener that
	// wants TLS, not only SASL.
	"read from broker errored, killing connection after 0 successful responses (is SASL missing?)": {
		"a broker closed a new connection before answering: it may be restarting, or the listener needs TLS or SASL (see --tls and --sasl-mechanism)", slog.LevelWarn},
	// Logged for every reconnection attempt while a broker restarts,
	// which is the usual cause on a cluster that worked before.
	"read from broker received EOF during api versions discovery, which often happens when the broker requires TLS and the client is not using it (is TLS misconfigured?)": {
		"a broker closed a new connection during its first exchange: it may be restarting, or the listener needs TLS (see --tls)", slog.LevelWarn},
}

// kgoHandler is the handler the Kafka client logs through. kgo logs every
// Begin, flush and End at Info and every request at Debug, so its Info
// lines become the application's Debug (shown with --log-level debug, where
// they tell what the client did while a transaction took long), its Debug
// lines are dropped, and Warn and above pass as they are. kgoWording is
// applied first; a level it sets is kept.
type kgoHandler struct{ slog.Handler }

// kgoLevel maps a kgo record's level to the application's; ok is false for
// records that are dropped.
func kgoLevel(l slog.Level) (_ slog.Level, ok bool) {
	switch {
	case l >= slog.LevelWarn:
		return l, true
	case l >= slog.LevelInfo:
		return slog.LevelDebug, true
	default:
		return l, false
	}
}

func (h kgoHandler) Enabled(ctx context.Context, l slog.Level) bool {
	l, ok := kgoLevel(l)
	return ok && h.Handler.Enabled(ctx, l)
}

func (h kgoHandler) Handle(ctx context.Context, r slog.Record) error {
	level, ok := kgoLevel(r.Level)
	msg := r.Message
	if w, found := kgoWording[r.Message]; found {
		if w.msg != "" {
			msg = w.msg
		}
		level, ok = w.level, true
	}
	if !ok || !h.Handler.Enabled(ctx, level) {
		return nil
	}
	out := slog.NewRecord(r.Time, level, msg, r.PC)
	r.Attrs(func(a slog.Attr) bool { out.AddAttrs(a); return true })
	return h.Handler.Handle(ctx, out)
}

func (h kgoHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return kgoHandler{h.Handler.WithAttrs(as)}
}

func (h kgoHandler) WithGroup(name string) slog.Handler {
	return kgoHandler{h.Handler.WithGroup(name)}
}

// rateLimiter lets one message per key through per interval and counts what
// it held back. It is used from the loop goroutine only.
type rateLimiter struct {
	every time.Duration
	last  map[string]time.Time
	held  map[string]int
}

func newRateLimiter(every time.Duration) *rateLimiter {
	return &rateLimiter{every: every, last: make(map[string]time.Time), held: make(map[string]int)}
}

// allow reports whether to log key now, and how many were held back since the
// last time it was logged.
func (r *rateLimiter) allow(key string, now time.Time) (ok bool, suppressed int) {
	if last, seen := r.last[key]; seen && now.Sub(last) < r.every {
		r.held[key]++
		return false, 0
	}
	suppressed = r.held[key]
	r.last[key] = now
	delete(r.held, key)
	return true, suppressed
}
