package ktool

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produceOptions are the flags of ktool produce.
type produceOptions struct {
	file    string
	key     *string // nil: no key
	headers keyValueFlag
	raw     bool
}

func produceCommand() *command {
	o := &produceOptions{}
	return &command{
		name: "produce",
		synopsis: "ktool produce TOPIC VALUE [flags]\n" +
			"ktool produce TOPIC - [flags]             (the value is read from stdin)\n" +
			"ktool produce TOPIC --file FILE [flags]",
		about: `Writes records to TOPIC and prints the partition and offset of each.

VALUE is written as given, byte for byte; with "-" the value is all of stdin,
less one trailing newline. With --file, a file that is one JSON array gives
one record per element, each written as the element's JSON text with
insignificant whitespace removed (a string element keeps its quotes); any
other file gives one record per line, written as it appears, skipping blank
lines. Every line must be valid JSON unless --raw is set. --file - reads
the file from stdin.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.file, "file", "", "write one record per JSON array element or per line of this `file` (- for stdin)")
			fs.Func("key", "the record `key` (default: no key); with --file, every record gets it", func(s string) error {
				o.key = &s
				return nil
			})
			fs.Var(&o.headers, "header", "add a record header `KEY=VALUE`; repeatable")
			fs.BoolVar(&o.raw, "raw", false, "with --file: send each line as plain text, without checking it is JSON")
		},
		run: func(ctx context.Context, e *env, args []string) error { return produce(ctx, e, o, args) },
	}
}

func produce(ctx context.Context, e *env, o *produceOptions, args []string) error {
	values, source, err := o.values(e, args)
	if err != nil {
		return err
	}
	topic := args[0]

	cl, err := e.connect(ctx, kgo.DefaultProduceTopic(topic), kgo.RecordDeliveryTimeout(requestTimeout))
	if err != nil {
		return err
	}
	defer cl.Close()
	if _, err := e.lookupTopic(ctx, newAdmin(cl), topic); err != nil {
		return err
	}

	var headers []kgo.RecordHeader
	for _, h := range o.headers.pairs {
		headers = append(headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
	}
	records := make([]*kgo.Record, len(values))
	for i, v := range values {
		r := &kgo.Record{Topic: topic, Value: v, Headers: headers}
		if o.key != nil {
			r.Key = []byte(*o.key)
		}
		records[i] = r
	}
	results := cl.ProduceSync(ctx, records...)

	failed := map[*kgo.Record]error{}
	for _, res := range results {
		if res.Err != nil {
			failed[res.Record] = res.Err
		}
	}
	var firstErr error
	for i, r := range records {
		prefix := fmt.Sprintf("record %d: ", i+1)
		if len(records) == 1 {
			prefix = topic + ": "
		}
		if err := failed[r]; err != nil {
			fmt.Fprintf(e.stdout, "%sfailed: %v\n", prefix, err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		fmt.Fprintf(e.stdout, "%spartition %d, offset %d\n", prefix, r.Partition, r.Offset)
	}
	if firstErr != nil {
		return fmt.Errorf("writing to %s: %d of %d records failed, the first with: %w",
			topic, len(failed), len(records), e.explain(ctx, firstErr))
	}
	if len(records) > 1 {
		fmt.Fprintf(e.stdout, "wrote %d records from %s to %s\n", len(records), source, topic)
	}
	return nil
}

// values checks the positional arguments and returns the values to write
// and where they came from.
func (o *produceOptions) values(e *env, args []string) (values [][]byte, source string, err error) {
	const cmd = "produce"
	switch {
	case len(args) == 0:
		return nil, "", usagef(cmd, "missing TOPIC")
	case args[0] == "":
		return nil, "", usagef(cmd, "TOPIC is empty")
	case len(args) > 2:
		return nil, "", usagef(cmd, "too many arguments (%d); quote a VALUE that contains spaces", len(args))
	case o.file != "" && len(args) == 2:
		return nil, "", usagef(cmd, "give either VALUE or --file, not both")
	case o.file == "" && len(args) == 1:
		return nil, "", usagef(cmd, "missing VALUE: give a value, - to read it from stdin, or --file FILE")
	case o.raw && o.file == "":
		return nil, "", usagef(cmd, "--raw only applies to --file")
	}

	if o.file == "" {
		if args[1] != "-" {
			return [][]byte{[]byte(args[1])}, "the command line", nil
		}
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, "", fmt.Errorf("reading the value from stdin: %w", err)
		}
		b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
		return [][]byte{b}, "stdin", nil
	}

	var data []byte
	name := o.file
	if o.file == "-" {
		name = "stdin"
		data, err = io.ReadAll(e.stdin)
	} else {
		data, err = os.ReadFile(o.file)
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("reading --file: %s does not exist", o.file)
		}
		return nil, "", fmt.Errorf("reading --file: %w", err)
	}
	values, err = parseRecords(name, data, o.raw)
	if err != nil {
		return nil, "", err
	}
	return values, name, nil
}
