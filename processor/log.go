package processor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns the slog.Logger that cfg's --log-level and --log-format
// describe, writing to w, in the form operatorHandler gives every record.
func NewLogger(cfg Config, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(cfg.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.LogFormat {
	case "json":
		return slog.New(operatorHandler{slog.NewJSONHandler(w, opts)}), nil
	case "text":
		return slog.New(operatorHandler{slog.NewTextHandler(w, opts)}), nil
	}
	return nil, fmt.Errorf("--log-format: must be json or text, got %q", cfg.LogFormat)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("must be debug, info, warn or error, got %q", s)
	}
	return l, nil
}

// maxAttrBytes is the longest string value a log line carries; a longer one
// (a 16 KB group id, say) is cut, so that it does not fill every line.
const maxAttrBytes = 256

// operatorHandler makes every record, whoever logs it (the processor, the
// loop or the Kafka client), read as an operator wants: a warning or error
// whose error Hint knows gets a "hint" saying what to change, durations are
// strings ("250ms", not 250000000 in JSON), and long strings are cut.
type operatorHandler struct{ slog.Handler }

func (h operatorHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	var hint string
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(readable(a))
		if err, ok := a.Value.Any().(error); ok && hint == "" && r.Level >= slog.LevelWarn {
			hint = Hint(err)
		}
		return true
	})
	if hint != "" {
		out.AddAttrs(slog.String("hint", hint))
	}
	return h.Handler.Handle(ctx, out)
}

func (h operatorHandler) WithAttrs(as []slog.Attr) slog.Handler {
	for i := range as {
		as[i] = readable(as[i])
	}
	return operatorHandler{h.Handler.WithAttrs(as)}
}

func (h operatorHandler) WithGroup(name string) slog.Handler {
	return operatorHandler{h.Handler.WithGroup(name)}
}

// readable turns a duration into its string and cuts a long string.
func readable(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindDuration:
		return slog.String(a.Key, v.Duration().String())
	case slog.KindString:
		if s := v.String(); len(s) > maxAttrBytes {
			cut := maxAttrBytes
			for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
				cut--
			}
			return slog.String(a.Key, fmt.Sprintf("%s...(%d bytes)", s[:cut], len(s)))
		}
	}
	return a
}
