package report

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// colors gives each contender the same color in every plot.
var colors = map[string]color.Color{
	EventProcessor:    color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	AtLeastOnce:       color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	KafkaStreams:      color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	KafkaStreamsTuned: color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	RawCopy:           color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
}

// Plots writes latency.png (p99 and p50 against the offered rate, both
// axes logarithmic, one line per contender over the rates it kept up with)
// and throughput.png (events/s on the backlog per contender) into dir.
func (f *File) Plots(dir string) error {
	if err := f.latencyPlot(filepath.Join(dir, "latency.png")); err != nil {
		return fmt.Errorf("plotting latency: %w", err)
	}
	if err := f.throughputPlot(filepath.Join(dir, "throughput.png")); err != nil {
		return fmt.Errorf("plotting throughput: %w", err)
	}
	return nil
}

func (f *File) latencyPlot(path string) error {
	p := plot.New()
	p.Title.Text = "Produce-to-visible latency (read_committed) against offered load"
	p.X.Label.Text = "offered events/s"
	p.Y.Label.Text = "ms (solid: p99, dashed: p50)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	lo, hi := 1e9, 0.0
	for _, c := range Contenders {
		var p99, p50 plotter.XYs
		for _, r := range f.Results {
			if r.Contender != c || r.Kind != KindRate || !r.Sustained || r.P99 == nil {
				continue
			}
			p99 = append(p99, plotter.XY{X: float64(r.Rate), Y: max(*r.P99, 0.1)})
			p50 = append(p50, plotter.XY{X: float64(r.Rate), Y: max(*r.P50, 0.1)})
			lo, hi = min(lo, *r.P50), max(hi, *r.P99)
		}
		if len(p99) == 0 {
			continue
		}
		l99, s99, err := plotter.NewLinePoints(p99)
		if err != nil {
			return err
		}
		l99.Color, s99.Color = colors[c], colors[c]
		l99.Width = vg.Points(2)
		s99.Shape = draw.CircleGlyph{}
		l50, err := plotter.NewLine(p50)
		if err != nil {
			return err
		}
		l50.Color = colors[c]
		l50.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l99, s99, l50)
		p.Legend.Add(c, l99, s99)
	}
	if hi > 0 {
		p.Y.Min, p.Y.Max = max(lo/2, 0.1), hi*2
	}
	rates := slices.Clone(f.Settings.Rates)
	if len(rates) > 0 {
		p.X.Min, p.X.Max = float64(slices.Min(rates))/1.5, float64(slices.Max(rates))*1.5
	}
	return p.Save(18*vg.Centimeter, 12*vg.Centimeter, path)
}

func (f *File) throughputPlot(path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Throughput on a backlog of %s events (median)", num(float64(f.Settings.BacklogEvents)))
	p.Y.Label.Text = "events/s"
	p.Add(plotter.NewGrid())
	var names []string
	var i float64
	for _, c := range Contenders {
		r := f.Find(c, KindBacklog, 0, int64(f.Settings.BacklogEvents))
		if r == nil {
			continue
		}
		bar, err := plotter.NewBarChart(plotter.Values{r.EventsPerS}, vg.Points(40))
		if err != nil {
			return err
		}
		bar.Color = colors[c]
		bar.LineStyle.Width = 0
		bar.XMin = i
		labels, err := plotter.NewLabels(plotter.XYLabels{
			XYs:    []plotter.XY{{X: i, Y: r.EventsPerS}},
			Labels: []string{num(r.EventsPerS)},
		})
		if err != nil {
			return err
		}
		for j := range labels.TextStyle {
			labels.TextStyle[j].XAlign = -0.5
		}
		p.Add(bar, labels)
		names = append(names, c)
		i++
	}
	p.NominalX(names...)
	p.Y.Min = 0
	p.Y.Max *= 1.1
	return p.Save(18*vg.Centimeter, 10*vg.Centimeter, path)
}
