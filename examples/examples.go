// Package examples holds the sample events of the project, embedded so that
// `event-processor demo` works from any directory. The same file,
// examples/sample-events.json, is what
// `ktool produce input-events --file examples/sample-events.json` sends.
package examples

import _ "embed"

// SampleEvents is examples/sample-events.json: a JSON array of valid input
// events of several types, each becoming one output event.
//
//go:embed sample-events.json
var SampleEvents []byte
