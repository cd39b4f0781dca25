// Command report renders a benchmark results file again: the plots beside
// it and the generated section of docs/benchmarks.md (between its results
// markers), so that the page shows exactly the file's figures.
//
//	go run ./bench/cmd/report [-in bench/results/latest.json] [-docs docs/benchmarks.md]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/event-processor/event-processor/bench/internal/report"
)

func main() {
	in := flag.String("in", "bench/results/latest.json", "results file")
	docs := flag.String("docs", "docs/benchmarks.md", "page whose results section is replaced (empty: none)")
	flag.Parse()
	f, err := report.Read(*in)
	if err != nil {
		fail(err)
	}
	if err := f.Plots(filepath.Dir(*in)); err != nil {
		fail(err)
	}
	if *docs == "" {
		return
	}
	doc, err := os.ReadFile(*docs)
	if err != nil {
		fail(err)
	}
	out, err := report.Splice(string(doc), f.Markdown())
	if err != nil {
		fail(fmt.Errorf("%s: %w", *docs, err))
	}
	if err := os.WriteFile(*docs, []byte(out), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}
