package txn

import (
	"context"
	"log/slog"
	"time"
)

// kgoWording rewrites the Kafka client's internal wording that reads as a
// problem it is not, or blames the wrong thing, at Warn and above. Each
// entry is matched on the whole message; level 0 keeps the record's level.
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
}

// kgoHandler is the handler the Kafka client logs through: kgoWording
// applied, then min.
type kgoHandler struct{ minLevelHandler }

func (h kgoHandler) Handle(ctx context.Context, r slog.Record) error {
	if w, ok := kgoWording[r.Message]; ok {
		if w.level < h.min {
			return nil
		}
		out := slog.NewRecord(r.Time, w.level, w.msg, r.PC)
		r.Attrs(func(a slog.Attr) bool { out.AddAttrs(a); return true })
		r = out
	}
	return h.minLevelHandler.Handle(ctx, r)
}

func (h kgoHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return kgoHandler{minLevelHandler{h.Handler.WithAttrs(as), h.min}}
}

func (h kgoHandler) WithGroup(name string) slog.Handler {
	return kgoHandler{minLevelHandler{h.Handler.WithGroup(name), h.min}}
}

// minLevelHandler drops records below min. kgo logs every Begin, flush and
// End at Info; handing it the application's handler as is would log per
// transaction at Info, so kgo gets Warn and above only.
type minLevelHandler struct {
	slog.Handler
	min slog.Level
}

func (h minLevelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevelHandler{h.Handler.WithAttrs(as), h.min}
}

func (h minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{h.Handler.WithGroup(name), h.min}
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
