package processor

import "github.com/prometheus/client_golang/prometheus"

// Gatherer returns the processor's Prometheus registry: the metrics that
// /metrics serves, for a caller in the same process (the demo reads its
// transaction count from it) that has no HTTP endpoint to scrape.
func (p *Processor) Gatherer() prometheus.Gatherer { return p.reg }
