// Command pipe runs one of the benchmark's non-transactional contenders
// (package bench/internal/pipe) until SIGTERM or SIGINT:
//
//	pipe --mode at-least-once|raw-copy --brokers 127.0.0.1:9092 \
//	  --input in --output out [--errors err] --group g
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/event-processor/event-processor/bench/internal/pipe"
)

func main() {
	var cfg pipe.Config
	mode := flag.String("mode", "", "at-least-once (the processor's transform, no transactions) or raw-copy (records copied unchanged)")
	brokers := flag.String("brokers", "", "bootstrap servers, comma-separated host:port")
	flag.StringVar(&cfg.Input, "input", "", "topic to read")
	flag.StringVar(&cfg.Output, "output", "", "topic for results (every copy, for raw-copy)")
	flag.StringVar(&cfg.Errors, "errors", "", "topic for error events (at-least-once only)")
	flag.StringVar(&cfg.Group, "group", "", "consumer group")
	flag.Parse()
	cfg.Brokers = strings.Split(*brokers, ",")
	if *brokers == "" || cfg.Input == "" || cfg.Output == "" || cfg.Group == "" {
		fail(2, "--brokers, --input, --output and --group are required")
	}
	var route pipe.RouteFunc
	switch *mode {
	case "at-least-once":
		if cfg.Errors == "" {
			fail(2, "--errors is required for --mode at-least-once")
		}
		var err error
		if route, err = pipe.AtLeastOnce(cfg); err != nil {
			fail(2, err.Error())
		}
	case "raw-copy":
		route = pipe.RawCopy(cfg)
	default:
		fail(2, fmt.Sprintf("--mode must be at-least-once or raw-copy, got %q", *mode))
	}
	cl, err := pipe.Client(cfg)
	if err != nil {
		fail(2, err.Error())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = pipe.Run(ctx, cl, route)
	cl.Close()
	if err != nil {
		fail(1, err.Error())
	}
}

func fail(code int, msg string) {
	fmt.Fprintln(os.Stderr, "pipe:", msg)
	os.Exit(code)
}
