package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// Faults is an in-process Toxiproxy with one proxy per node and slot of a
// Cluster: listening on 127.0.0.1 at the slot's advertised address
// (Slot.Proxy) and forwarding to the broker's slot listener (Slot.Listen).
// An instance bootstrapped at Cluster.SlotBootstrap(i) reaches every broker
// through slot i's proxies only, so a fault there disturbs that instance
// and nothing else: not the producer, the verifier, replication or the
// controllers, which use other listeners.
type Faults struct {
	proxies [][]*toxiproxy.Proxy // by slot, then node index
	nodes   []int32
}

// NewFaults starts the proxies of every slot of c.
func NewFaults(c *Cluster) (*Faults, error) {
	// Some toxics log through zerolog's global logger, at trace level
	// per chunk; nothing else in the tests uses zerolog.
	zerolog.SetGlobalLevel(zerolog.ErrorLevel)
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	f := &Faults{}
	for _, n := range c.Nodes() {
		f.nodes = append(f.nodes, n.ID)
	}
	for s := range c.Nodes()[0].Slots {
		var row []*toxiproxy.Proxy
		for _, n := range c.Nodes() {
			p := toxiproxy.NewProxy(server, fmt.Sprintf("slot%d-node%d", s, n.ID), n.Slots[s].Proxy, n.Slots[s].Listen)
			if err := p.Start(); err != nil {
				f.Close()
				return nil, fmt.Errorf("starting the proxy of slot %d to node %d at %s: %w", s, n.ID, n.Slots[s].Proxy, err)
			}
			row = append(row, p)
		}
		f.proxies = append(f.proxies, row)
	}
	return f, nil
}

// Close stops every proxy.
func (f *Faults) Close() {
	for _, row := range f.proxies {
		for _, p := range row {
			p.Stop()
		}
	}
}

// A Toxic is one Toxiproxy toxic: Type is latency, bandwidth, timeout,
// reset_peer, slow_close, slicer or limit_data; Stream is upstream (towards
// the broker) or downstream; Attributes are the type's (see the toxic
// constructors below).
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// Blackhole drops everything in stream and never closes the connection
// (a timeout toxic of 0), as a partition or a dead switch would.
func Blackhole(stream string) Toxic {
	return Toxic{Name: "blackhole-" + stream, Type: "timeout", Stream: stream, Toxicity: 1, Attributes: map[string]any{"timeout": 0}}
}

// Latency delays stream by latencyMS ± jitterMS.
func Latency(stream string, latencyMS, jitterMS int) Toxic {
	return Toxic{Name: "latency-" + stream, Type: "latency", Stream: stream, Toxicity: 1,
		Attributes: map[string]any{"latency": latencyMS, "jitter": jitterMS}}
}

// ResetPeer resets (TCP RST) every connection afterMS after data next
// flows in stream.
func ResetPeer(stream string, afterMS int) Toxic {
	return Toxic{Name: "reset-" + stream, Type: "reset_peer", Stream: stream, Toxicity: 1, Attributes: map[string]any{"timeout": afterMS}}
}

// Bandwidth limits stream to rateKB kilobytes a second.
func Bandwidth(stream string, rateKB int) Toxic {
	return Toxic{Name: "bandwidth-" + stream, Type: "bandwidth", Stream: stream, Toxicity: 1, Attributes: map[string]any{"rate": rateKB}}
}

// proxiesOf returns slot's proxies to nodes (every node if none is named).
func (f *Faults) proxiesOf(slot int, nodes []int32) ([]*toxiproxy.Proxy, error) {
	if slot < 0 || slot >= len(f.proxies) {
		return nil, fmt.Errorf("no slot %d (the cluster has %d)", slot, len(f.proxies))
	}
	if len(nodes) == 0 {
		return f.proxies[slot], nil
	}
	var out []*toxiproxy.Proxy
	for _, id := range nodes {
		found := false
		for i, n := range f.nodes {
			if n == id {
				out = append(out, f.proxies[slot][i])
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no node %d", id)
		}
	}
	return out, nil
}

// Add adds toxics to slot's proxies to nodes (all if nodes is empty); they
// apply to open connections and new ones until removed.
func (f *Faults) Add(slot int, nodes []int32, toxics ...Toxic) error {
	ps, err := f.proxiesOf(slot, nodes)
	if err != nil {
		return err
	}
	for _, p := range ps {
		for _, t := range toxics {
			b, err := json.Marshal(t)
			if err != nil {
				return err
			}
			if _, err := p.Toxics.AddToxicJson(bytes.NewReader(b)); err != nil {
				return fmt.Errorf("adding toxic %s to %s: %w", t.Name, p.Name, err)
			}
		}
	}
	return nil
}

// Remove removes the toxics named from slot's proxies to nodes.
func (f *Faults) Remove(slot int, nodes []int32, toxics ...Toxic) error {
	ps, err := f.proxiesOf(slot, nodes)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ps {
		for _, t := range toxics {
			if err := p.Toxics.RemoveToxic(context.Background(), t.Name); err != nil {
				errs = append(errs, fmt.Errorf("removing toxic %s from %s: %w", t.Name, p.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Down stops slot's proxies to nodes: open connections are closed and new
// ones refused, as if the brokers' host were gone.
func (f *Faults) Down(slot int, nodes ...int32) error {
	ps, err := f.proxiesOf(slot, nodes)
	if err != nil {
		return err
	}
	for _, p := range ps {
		p.Stop()
	}
	return nil
}

// Up starts slot's proxies to nodes again on the same addresses.
func (f *Faults) Up(slot int, nodes ...int32) error {
	ps, err := f.proxiesOf(slot, nodes)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := p.Start(); err != nil && !errors.Is(err, toxiproxy.ErrProxyAlreadyStarted) {
			return fmt.Errorf("starting %s again: %w", p.Name, err)
		}
	}
	return nil
}
