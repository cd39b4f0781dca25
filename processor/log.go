package processor

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns the slog.Logger that cfg's --log-level and --log-format
// describe, writing to w. A warning or error whose error Hint knows carries
// a "hint" saying what to change.
func NewLogger(cfg Config, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(cfg.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.LogFormat {
	case "json":
		return slog.New(hintHandler{slog.NewJSONHandler(w, opts)}), nil
	case "text":
		return slog.New(hintHandler{slog.NewTextHandler(w, opts)}), nil
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
