package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// ErrorTypeSummary is "OUTPUT_TOO_LARGE 1, PARSE_ERROR 4" in name order, or
// "none".
func (r *Report) ErrorTypeSummary() string {
	if len(r.ErrorTypes) == 0 {
		return "none"
	}
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(r.ErrorTypes)) {
		parts = append(parts, fmt.Sprintf("%s %d", t, r.ErrorTypes[t]))
	}
	return strings.Join(parts, ", ")
}

// CountSummary is every kind's count: "0 missing, 0 duplicated, ...".
func (r *Report) CountSummary() string {
	parts := make([]string, 0, numKinds)
	for _, k := range Kinds() {
		parts = append(parts, fmt.Sprintf("%d %s", r.Counts[k], strings.ReplaceAll(k.String(), "_", " ")))
	}
	return strings.Join(parts, ", ")
}

// Verdict is the report in one line.
func (r *Report) Verdict() string {
	if r.OK() && r.Inputs == 0 {
		return "nothing to check: the range holds no input records"
	}
	if r.OK() {
		return fmt.Sprintf("exactly once: each of the %d inputs has exactly one result, on the right topic, as the contract makes it", r.Inputs)
	}
	var parts []string
	for _, k := range Kinds() {
		if n := r.Counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(k.String(), "_", " ")))
		}
	}
	return "NOT exactly once: " + strings.Join(parts, ", ")
}

// WriteText writes the report for people: the range, the counts, each kind
// of violation with its first examples, and the verdict.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "input         %s: %d records in %s, %d valid, %d invalid\n",
		r.InputTopic, r.Inputs, describeRange(r.Start, r.End), r.Valid, r.Inputs-r.Valid)
	fmt.Fprintf(&b, "outputs       %d on %s\n", r.Outputs, r.OutputTopic)
	fmt.Fprintf(&b, "errors        %d on %s: %s\n", r.Errors, r.ErrorTopic, r.ErrorTypeSummary())
	if r.Outside > 0 {
		fmt.Fprintf(&b, "outside       %d results of inputs outside the range (not checked)\n", r.Outside)
	}
	for _, k := range Kinds() {
		fmt.Fprintf(&b, "%-13s %d\n", strings.ReplaceAll(k.String(), "_", " "), r.Counts[k])
		for _, v := range r.Examples[k] {
			fmt.Fprintf(&b, "  %s\n", v.where())
		}
		if n := r.Counts[k]; n > int64(len(r.Examples[k])) && len(r.Examples[k]) > 0 {
			fmt.Fprintf(&b, "  ... and %d more\n", n-int64(len(r.Examples[k])))
		}
	}
	fmt.Fprintf(&b, "%s\n", r.Verdict())
	_, err := io.WriteString(w, b.String())
	return err
}

// where is a violation without its kind, for a list under the kind.
func (v Violation) where() string {
	var s []string
	if v.Input != nil {
		s = append(s, "input "+v.Input.String())
	}
	if v.Result != nil {
		s = append(s, "result "+v.Result.String())
	}
	return strings.Join(s, ", ") + ": " + v.Detail
}

// describeRange is "3 partitions, offsets 0:[0,120) 1:[0,97) 2:[5,7)", the
// offsets left out when there are many partitions.
func describeRange(start, end Offsets) string {
	const most = 8 // partitions whose offsets are listed
	ps := slices.Sorted(maps.Keys(end))
	noun := "partitions"
	if len(ps) == 1 {
		noun = "partition"
	}
	if len(ps) > most {
		return fmt.Sprintf("%d %s", len(ps), noun)
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%d:[%d,%d)", p, start[p], end[p])
	}
	return fmt.Sprintf("%d %s, offsets %s", len(ps), noun, strings.Join(parts, " "))
}

// jsonReport is the machine-readable report; its field names are an
// interface.
type jsonReport struct {
	OK          bool                   `json:"ok"`
	InputTopic  string                 `json:"input_topic"`
	OutputTopic string                 `json:"output_topic"`
	ErrorTopic  string                 `json:"error_topic"`
	Range       map[string][2]int64    `json:"range"`
	Inputs      int64                  `json:"inputs"`
	Valid       int64                  `json:"valid"`
	Outputs     int64                  `json:"outputs"`
	Errors      int64                  `json:"errors"`
	ErrorTypes  map[string]int64       `json:"error_types"`
	Outside     int64                  `json:"outside"`
	Violations  map[string]int64       `json:"violations"`
	Examples    map[string][]Violation `json:"examples"`
}

// WriteJSON writes the report as one JSON object:
//
//	{"ok":false,"input_topic":"input-events","output_topic":...,"error_topic":...,
//	 "range":{"0":[start,end],...},"inputs":N,"valid":N,"outputs":N,"errors":N,
//	 "error_types":{"PARSE_ERROR":N},"outside":N,
//	 "violations":{"missing":N,"duplicated":N,"orphaned":N,"mismatched":N,"misrouted":N,"out_of_order":N},
//	 "examples":{"missing":[{"input":{"topic","partition","offset"},"detail":"..."}],...}}
func (r *Report) WriteJSON(w io.Writer) error {
	j := jsonReport{
		OK: r.OK(), InputTopic: r.InputTopic, OutputTopic: r.OutputTopic, ErrorTopic: r.ErrorTopic,
		Range:  make(map[string][2]int64, len(r.End)),
		Inputs: r.Inputs, Valid: r.Valid, Outputs: r.Outputs, Errors: r.Errors,
		ErrorTypes: r.ErrorTypes, Outside: r.Outside,
		Violations: make(map[string]int64, numKinds), Examples: make(map[string][]Violation, numKinds),
	}
	for p, e := range r.End {
		j.Range[strconv.Itoa(int(p))] = [2]int64{r.Start[p], e}
	}
	for _, k := range Kinds() {
		j.Violations[k.String()] = r.Counts[k]
		j.Examples[k.String()] = append([]Violation{}, r.Examples[k]...)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(j)
}
