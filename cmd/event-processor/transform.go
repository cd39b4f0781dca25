package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/event-processor/event-processor/processor"
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

--max-record-bytes is the processor's record size limit: events get it less
4096 bytes kept for the record's key and headers, as in the processor.

Flags (flags beat the environment):
`

// transformCommand implements "event-processor transform".
func transformCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("event-processor transform", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), transformUsage)
		fs.PrintDefaults()
	}
	// The options the processor shares with the dry run, with the same
	// names, environment twins, defaults and checks.
	cfg := processor.DefaultConfig()
	cfg.BindFlags(fs, "input-topic", "output-topic", "error-topic", "pipeline-name", "max-record-bytes")
	file := fs.String("file", "", "read messages from this file instead of stdin")
	var now time.Time
	fs.Func("now", "processing time as RFC 3339, e.g. 2024-12-04T15:30:00Z, for reproducible output (default the real clock)", func(s string) error {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return errors.New("not an RFC 3339 time")
		}
		now = t
		return nil
	})
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "event-processor transform: "+format+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q (messages are read from stdin or --file)", fs.Arg(0))
	}
	if err := cfg.ApplyEnv(fs, os.LookupEnv); err != nil {
		return fail(2, "%v", err)
	}
	if err := cfg.Validate(); err != nil {
		return fail(2, "%v", err)
	}
	tr, err := cfg.Transformer(cfg.MaxRecordBytes)
	if err != nil {
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
	outputPrefix := transformLinePrefix(cfg.OutputTopic)
	errorPrefix := transformLinePrefix(cfg.ErrorTopic)
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
		src := schema.Source{Topic: cfg.InputTopic, Partition: 0, Offset: offset, Known: true}
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
