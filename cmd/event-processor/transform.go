package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/event-processor/event-processor/schema"
)

const transformUsage = `usage: event-processor transform [flags]

Dry run: read one message per line from stdin (or --file), apply the same
schema code as the processor, and print one line per message:

  {"topic":"<output or error topic>","value":<the event>}

Each line is one record value; one trailing "\n" or "\r\n" is removed, and
an empty line is an empty value. Error events name the input topic, partition
0 and the 0-based line number as their source. The exit status is 0 even when
messages become error events; 1 when the input cannot be read; 2 for bad flags.

Flags (environment variable in brackets; flags beat the environment):
`

// transformCommand implements "event-processor transform".
func transformCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("transform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), transformUsage)
		fs.PrintDefaults()
	}
	var (
		inputTopic  = fs.String("input-topic", "input-events", "input topic, the sourceTopic of error events [INPUT_TOPIC]")
		outputTopic = fs.String("output-topic", "output-results", "topic printed for output events [OUTPUT_TOPIC]")
		errorTopic  = fs.String("error-topic", "error-events", "topic printed for error events [ERROR_TOPIC]")
		pipeline    = fs.String("pipeline-name", schema.DefaultPipelineName, "enrichedData.processing_pipeline of output events [PIPELINE_NAME]")
		maxBytes    = fs.Int("max-record-bytes", schema.DefaultMaxRecordBytes, "largest event value; larger outputs become OUTPUT_TOO_LARGE error events [MAX_RECORD_BYTES]")
		file        = fs.String("file", "", "read messages from this file instead of stdin")
		now         time.Time
	)
	fs.Func("now", "processing time as RFC 3339, e.g. 2024-12-04T15:30:00Z, for reproducible output (default the real clock)", func(s string) error {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return errors.New("not an RFC 3339 time")
		}
		now = t
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package has printed the error and the usage
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "event-processor transform: "+format+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q (messages are read from stdin or --file)", fs.Arg(0))
	}

	// Flags beat the environment, which beats the defaults. source names
	// where each value came from, for error messages.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	source := map[string]string{}
	for _, e := range []struct {
		flag, env string
		value     *string
	}{
		{"input-topic", "INPUT_TOPIC", inputTopic},
		{"output-topic", "OUTPUT_TOPIC", outputTopic},
		{"error-topic", "ERROR_TOPIC", errorTopic},
		{"pipeline-name", "PIPELINE_NAME", pipeline},
	} {
		source[e.flag] = "--" + e.flag
		if v := os.Getenv(e.env); v != "" && !set[e.flag] {
			*e.value, source[e.flag] = v, e.env
		}
	}
	source["max-record-bytes"] = "--max-record-bytes"
	if v := os.Getenv("MAX_RECORD_BYTES"); v != "" && !set["max-record-bytes"] {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fail(2, "MAX_RECORD_BYTES: %q is not an integer", v)
		}
		*maxBytes, source["max-record-bytes"] = n, "MAX_RECORD_BYTES"
	}
	for _, f := range []string{"input-topic", "output-topic", "error-topic"} {
		if err := transformCheckTopic(fs.Lookup(f).Value.String()); err != nil {
			return fail(2, "%s: %v", source[f], err)
		}
	}

	tr, err := schema.New(schema.Options{PipelineName: *pipeline, MaxRecordBytes: *maxBytes})
	if err != nil {
		var oe *schema.OptionError
		if errors.As(err, &oe) {
			name := map[string]string{"PipelineName": "pipeline-name", "MaxRecordBytes": "max-record-bytes"}[oe.Field]
			return fail(2, "%s: %s", source[name], oe.Reason)
		}
		return fail(2, "%v", err)
	}

	in := stdin
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return fail(1, "opening --file: %v", err)
		}
		defer f.Close()
		in = f
	}

	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriterSize(stdout, 64<<10)
	outputPrefix := transformLinePrefix(*outputTopic)
	errorPrefix := transformLinePrefix(*errorTopic)
	var line, value []byte
	for offset := int64(0); ; offset++ {
		var more bool
		line, more, err = transformReadLine(r, line[:0])
		if err != nil {
			w.Flush()
			return fail(1, "reading input: %v", err)
		}
		if !more {
			break
		}
		at := now
		if at.IsZero() {
			at = time.Now()
		}
		src := schema.Source{Topic: *inputTopic, Partition: 0, Offset: offset, Known: true}
		res := tr.Transform(value[:0], line, src, at)
		value = res.Value
		if res.IsError {
			w.Write(errorPrefix)
		} else {
			w.Write(outputPrefix)
		}
		w.Write(res.Value)
		w.WriteString("}\n")
		// Show each result as soon as its line is in, for interactive use.
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return fail(1, "writing output: %v", err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fail(1, "writing output: %v", err)
	}
	return 0
}

// transformReadLine appends the next line of r to line, without its "\n" or
// "\r\n". more is false at the end of the input; a last line without a
// newline still counts. Lines may be of any length.
func transformReadLine(r *bufio.Reader, line []byte) (_ []byte, more bool, _ error) {
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		switch {
		case err == nil:
			line = line[:len(line)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return line, len(line) > 0, nil
		default:
			return line, false, err
		}
	}
}

// transformLinePrefix is the start of an output line for topic.
func transformLinePrefix(topic string) []byte {
	quoted, _ := json.Marshal(topic)
	return append(append([]byte(`{"topic":`), quoted...), `,"value":`...)
}

// transformCheckTopic applies Kafka's rules for topic names.
func transformCheckTopic(name string) error {
	switch {
	case name == "":
		return errors.New("topic name must not be empty")
	case len(name) > 249:
		return fmt.Errorf("topic name is %d characters, Kafka allows 249", len(name))
	case name == "." || name == "..":
		return fmt.Errorf("topic name %q is not allowed", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q has %q; Kafka allows only ASCII letters, digits, '.', '_' and '-'", name, c)
		}
	}
	return nil
}
