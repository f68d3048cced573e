package figure

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of a Figure. Lo and Hi, when set, hold an interval for
// each point (a confidence interval, say), drawn as an error bar.
type Series struct {
	Name   string
	X, Y   []float64
	Lo, Hi []float64 // optional, the same length as Y
	Step   bool      // a step function: the value holds until the next point
	Points bool      // markers only, no line
}

// Mark is a labelled vertical dashed line, such as a partition.
type Mark struct {
	X     float64
	Label string
}

// Figure is a plot of series against shared axes.
type Figure struct {
	Title, XLabel, YLabel string
	LogY                  bool // log scale: points at or below zero are left out (an interval's Hi is still drawn)
	ZeroY                 bool // a linear y axis that starts at 0
	ZeroX                 bool // an x axis that starts at 0 (one point still shows where it lies)
	WholeX                bool // x takes whole values only (a depth, a count)
	Series                []Series
	Marks                 []Mark
	Width, Height         vg.Length // default 20 cm by 11 cm
}

// style is series i's look: colour, dashes and marker all differ, and
// earlier series are drawn wider so that later ones on top leave them
// visible.
func style(i, n int) (draw.LineStyle, draw.GlyphStyle) {
	c := plotutil.Color(i)
	ls := draw.LineStyle{Color: c, Width: vg.Points(1 + 1.2*float64(n-1-i)/float64(max(n-1, 1))), Dashes: plotutil.Dashes(i)}
	gs := draw.GlyphStyle{Color: c, Radius: vg.Points(3), Shape: plotutil.Shape(i)}
	return ls, gs
}

// Save draws f to path; the format follows the extension (.svg, .png, .pdf).
func (f *Figure) Save(path string) error {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = f.Title, f.XLabel, f.YLabel
	p.X.Tick.Marker, p.Y.Tick.Marker = RoundTicks{Whole: f.WholeX}, RoundTicks{}
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	if f.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = PowerTicks{}
		lo, hi := f.positiveRange()
		p.Y.Min, p.Y.Max = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
	}
	if f.ZeroY {
		p.Y.Min = 0
	}
	for i, s := range f.Series {
		ls, gs := style(i, len(f.Series))
		pts, bars := f.points(s)
		var thumbs []plot.Thumbnailer
		if len(pts) > 0 && !s.Points {
			line, err := plotter.NewLine(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %w", s.Name, err)
			}
			line.LineStyle = ls
			if s.Step {
				line.StepStyle = plotter.PostStep
			}
			p.Add(line)
			thumbs = append(thumbs, line)
		}
		if len(pts) > 0 && !s.Step {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %w", s.Name, err)
			}
			sc.GlyphStyle = gs
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if len(bars.XYs) > 0 {
			if f.LogY {
				bars.floor(p.Y.Min)
			}
			eb, err := plotter.NewYErrorBars(bars)
			if err != nil {
				return fmt.Errorf("plot %s: %w", s.Name, err)
			}
			eb.LineStyle = draw.LineStyle{Color: ls.Color, Width: vg.Points(1)}
			p.Add(eb)
		}
		name := s.Name
		if f.LogY && len(pts) < len(s.Y) {
			name += " (zeros not drawn)"
		}
		legend.Add(name, thumbs...)
	}
	if f.ZeroX {
		p.X.Min = 0
	}
	if d := (p.X.Max - p.X.Min) * 0.04; len(f.Marks) == 0 && d > 0 {
		p.X.Min, p.X.Max = p.X.Min-d, p.X.Max+d // keep markers and error bars off the axes
	}
	w, h := f.Width, f.Height
	if w == 0 {
		w, h = 20*vg.Centimeter, 11*vg.Centimeter
	}
	if err := AddMarks(p, f.Marks, p.Y.Min, p.Y.Max, w); err != nil { // the data's range, known now
		return err
	}
	if len(f.Series) == 0 {
		return SavePlot(p, nil, w, h, path)
	}
	return SavePlot(p, &legend, w, h, path)
}

// points are s's points that the axis can show, and its intervals.
func (f *Figure) points(s Series) (plotter.XYs, errorBars) {
	var pts plotter.XYs
	var bars errorBars
	for i := range s.Y {
		ok := !f.LogY || s.Y[i] > 0
		if ok {
			pts = append(pts, plotter.XY{X: s.X[i], Y: s.Y[i]})
		}
		if i < len(s.Lo) && i < len(s.Hi) && (ok || s.Hi[i] > 0) {
			bars.XYs = append(bars.XYs, plotter.XY{X: s.X[i], Y: s.Y[i]})
			bars.YErrors = append(bars.YErrors, struct{ Low, High float64 }{Low: s.Y[i] - s.Lo[i], High: s.Hi[i] - s.Y[i]})
		}
	}
	return pts, bars
}

// positiveRange is the smallest and largest positive value of every series
// and interval, for the limits of a log axis.
func (f *Figure) positiveRange() (lo, hi float64) {
	lo, hi = math.Inf(1), 0
	for _, s := range f.Series {
		for _, vs := range [][]float64{s.Y, s.Lo, s.Hi} {
			for _, v := range vs {
				if v > 0 {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	if hi == 0 {
		return 0.1, 1
	}
	return lo, hi
}

// AddMarks draws vertical marks from ymin to ymax on p, labelled at the
// top. width is the width the plot is saved at: each label goes on the
// highest row where it clears the labels to its left.
func AddMarks(p *plot.Plot, marks []Mark, ymin, ymax float64, width vg.Length) error {
	if len(marks) == 0 {
		return nil
	}
	style := draw.TextStyle{Color: color.Gray{Y: 60}, Font: plot.DefaultFont, Handler: plot.DefaultTextHandler, XAlign: draw.XLeft}
	style.Font.Size = vg.Points(8)
	lo, hi := p.X.Min, p.X.Max
	order := make([]int, len(marks))
	for i, m := range marks {
		lo, hi, order[i] = math.Min(lo, m.X), math.Max(hi, m.X), i
	}
	sort.SliceStable(order, func(a, b int) bool { return marks[order[a]].X < marks[order[b]].X })
	// Data units per point of the data area, which takes at least 60% of
	// the width (the rest: the y axis and the legend).
	perPoint := (hi - lo) / float64(0.6*width)
	var rowEnds []float64 // where the last label of each row ends
	var lbl plotter.XYLabels
	for _, i := range order {
		m := marks[i]
		l, err := plotter.NewLine(plotter.XYs{{X: m.X, Y: ymin}, {X: m.X, Y: ymax}})
		if err != nil {
			return err
		}
		l.LineStyle = draw.LineStyle{Color: color.Gray{Y: 120}, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(3), vg.Points(3)}}
		p.Add(l)
		row := 0
		for row < len(rowEnds) && rowEnds[row] > m.X {
			row++
		}
		if row == len(rowEnds) {
			rowEnds = append(rowEnds, 0)
		}
		rowEnds[row] = m.X + float64(style.Rectangle(m.Label).Size().X+vg.Points(6))*perPoint
		lbl.XYs = append(lbl.XYs, plotter.XY{X: m.X, Y: ymax - (ymax-ymin)*0.05*float64(row)})
		lbl.Labels = append(lbl.Labels, m.Label)
	}
	labels, err := plotter.NewLabels(lbl)
	if err != nil {
		return err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i] = style
	}
	labels.Offset = vg.Point{X: vg.Points(2)}
	p.Add(labels)
	return nil
}

// errorBars are the intervals of a series, in gonum's form.
type errorBars struct {
	plotter.XYs
	plotter.YErrors
}

// floor clips the intervals' lower ends to the bottom of a log axis.
func (e *errorBars) floor(min float64) {
	for i := range e.XYs {
		if e.XYs[i].Y <= 0 {
			e.XYs[i].Y = min // a zero estimate: only its interval shows
			e.YErrors[i].High += -min
		}
		if e.XYs[i].Y-e.YErrors[i].Low < min {
			e.YErrors[i].Low = e.XYs[i].Y - min
		}
	}
}

// PowerTicks labels a log axis at the powers of ten (0.001, 0.01, 0.1, 1,
// ...; 1e-05 below that), with unlabelled minor ticks between.
type PowerTicks struct{}

// Ticks implements plot.Ticker.
func (PowerTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.LogTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			// Exactly 10^k: the ticker's repeated multiplication drifts.
			ticks[i].Value = math.Pow10(int(math.Round(math.Log10(ticks[i].Value))))
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', -1, 64)
		}
	}
	return ticks
}

// RoundTicks are ticks at 1, 2 or 5 times a power of ten, about five
// labelled ones over the range, with unlabelled minor ticks between; with
// Whole set, only whole numbers (for counts and depths).
type RoundTicks struct{ Whole bool }

// Ticks implements plot.Ticker.
func (t RoundTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if t.Whole {
		step = math.Max(1, math.Round(step))
	}
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	minor := step / 5
	if t.Whole && step < 5 {
		minor = step
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo / minor); i*minor <= hi+minor*1e-9; i++ {
		v := i * minor
		tick := plot.Tick{Value: v}
		if r := math.Round(v / step); math.Abs(v/step-r) < 1e-6 {
			tick.Label = strconv.FormatFloat(r*step+0, 'f', decimals, 64)
			if r == 0 {
				tick.Label = "0" // not -0
			}
		}
		ticks = append(ticks, tick)
	}
	return ticks
}

// SavePlot draws p on a w by h canvas and writes it to path, in the format
// of its extension (.svg, .png, .pdf). A legend, when given, goes in a
// column to the right of the plot, so that it never covers data.
func SavePlot(p *plot.Plot, legend *plot.Legend, w, h vg.Length, path string) error {
	format := strings.TrimPrefix(filepath.Ext(path), ".")
	cw, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	dc := draw.New(cw)
	dc.FillPolygon(color.White, []vg.Point{{}, {X: w}, {X: w, Y: h}, {Y: h}}) // under the legend too
	if legend != nil {
		legend.Top, legend.Left = true, true
		legend.ThumbnailWidth = vg.Points(28)
		lw := legend.Rectangle(dc).Size().X + vg.Points(12)
		title := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
		p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
		legend.Draw(draw.Crop(dc, w-lw+vg.Points(6), 0, 0, -title-vg.Points(6)))
	} else {
		p.Draw(dc)
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := cw.WriteTo(out); err != nil {
		out.Close()
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return out.Close()
}
