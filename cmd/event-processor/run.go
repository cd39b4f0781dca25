package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/event-processor/event-processor/processor"
	"github.com/twmb/franz-go/pkg/kgo"
)

func runCommand(args []string, stdout, stderr io.Writer) int {
	cfg := processor.DefaultConfig()
	fs := flag.NewFlagSet("event-processor run", flag.ContinueOnError)
	cfg.BindFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: event-processor [run] [flags]\n\n"+
			"Reads JSON events from --input-topic, writes enriched events to --output-topic and\n"+
			"error events to --error-topic, exactly once. Every flag has an environment twin;\n"+
			"flags beat environment beat defaults.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "event-processor run: unexpected argument %q (options are flags, e.g. --input-topic NAME)\n", fs.Arg(0))
		return 2
	}
	if err := cfg.ApplyEnv(fs, os.LookupEnv); err != nil {
		fmt.Fprintf(stderr, "event-processor run: %v\n", err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "event-processor run: %v\n", err)
		return 2
	}
	log, err := processor.NewLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "event-processor run: %v\n", err)
		return 2
	}
	// A broker with a narrower session timeout range than Validate's says
	// so only at run time; the hook names the flag when it does.
	p, err := processor.New(cfg, log, processor.WithClientOpts(kgo.WithHooks(cfg.SessionTimeoutHook(log))))
	if err != nil {
		fmt.Fprintf(stderr, "event-processor run: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := p.Run(ctx); err != nil {
		log.Error("event-processor stopped with an error", "error", err)
		return 1
	}
	return 0
}
