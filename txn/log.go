package txn

import (
	"context"
	"log/slog"
	"time"
)

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
