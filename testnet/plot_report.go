package testnet

import (
	"fmt"
	"image/color"
	"path/filepath"
	"sort"

	"github.com/chaind/chaind/figure"
	"github.com/ethereum/go-ethereum/common"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

type plotFile struct{ title, file string }

// writePlots draws the report's figures into dir, and the dashboard page
// of the recorded run (dashboard.html).
func writePlots(dir string, r *Records, rep *Report) ([]plotFile, error) {
	if err := writeStaticDashboard(filepath.Join(dir, "dashboard.html"), r); err != nil {
		return nil, err
	}
	var out []plotFile
	canon := canonicalChain(r)
	for n := 0; n < r.Nodes; n++ {
		f := fmt.Sprintf("blocktree-node%d.svg", n)
		if err := blockTreePlot(filepath.Join(dir, f), r, canon, n); err != nil {
			return nil, err
		}
		out = append(out, plotFile{fmt.Sprintf("Block tree seen by node %d", n), f})
	}
	if err := headsFigure(r).Save(filepath.Join(dir, "heads.svg")); err != nil {
		return nil, err
	}
	out = append(out, plotFile{"Head height over time", "heads.svg"})
	if err := reorgPlot(filepath.Join(dir, "reorg-depth.svg"), rep); err != nil {
		return nil, err
	}
	out = append(out, plotFile{"Reorg depth histogram", "reorg-depth.svg"})
	return out, nil
}

// headsFigure is every node's head height over time as a step line, with
// the run's actions as marks.
func headsFigure(r *Records) *figure.Figure {
	// The y axis spans the heights of the run (a resumed run starts high):
	// from 0 the steps of the nodes would merge into one line.
	f := &figure.Figure{Title: "Head height over time", XLabel: "seconds since start", YLabel: "head height", Width: 24 * vg.Centimeter, Height: 12 * vg.Centimeter}
	for n := 0; n < r.Nodes; n++ {
		s := figure.Series{Name: fmt.Sprintf("node %d", n), Step: true}
		for _, e := range r.Events {
			if e.Node == n {
				s.X = append(s.X, float64(e.TimeMs-r.StartMs)/1000)
				s.Y = append(s.Y, float64(e.Height))
			}
		}
		f.Series = append(f.Series, s)
	}
	for _, a := range r.Actions {
		f.Marks = append(f.Marks, figure.Mark{X: float64(a.TimeMs-r.StartMs) / 1000, Label: a.What})
	}
	return f
}

// maxTreeHeights is how many of the latest heights a block tree plot shows.
const maxTreeHeights = 400

// blockTreePlot draws the blocks node n saw against a height axis: the
// final canonical chain on row 0, side branches on the rows above, each
// block coloured by its producer, an edge to its parent, and the node's
// last finalized height as a mark.
func blockTreePlot(path string, r *Records, canon map[common.Hash]bool, n int) error {
	var blocks []*BlockRec
	var top uint64
	for _, b := range r.Blocks {
		if _, seen := b.SeenMs[n]; seen || b.Height == 0 {
			blocks = append(blocks, b)
			top = max(top, b.Height)
		}
	}
	lo := top - min(top, maxTreeHeights)
	sort.Slice(blocks, func(i, j int) bool {
		if blocks[i].Height != blocks[j].Height {
			return blocks[i].Height < blocks[j].Height
		}
		return blocks[i].Hash.Hex() < blocks[j].Hash.Hex()
	})
	var shown []treeBlock
	for _, b := range blocks {
		if b.Height >= lo {
			shown = append(shown, treeBlock{Hash: b.Hash, Parent: b.Parent, Height: b.Height, Canonical: canon[b.Hash]})
		}
	}
	rowOf := branchRows(shown)
	pos := map[common.Hash]plotter.XY{}
	rows := 1
	byProducer := map[int]plotter.XYs{}
	for _, b := range blocks {
		if b.Height < lo {
			continue
		}
		row := rowOf[b.Hash]
		rows = max(rows, row+1)
		xy := plotter.XY{X: float64(b.Height), Y: float64(row)}
		pos[b.Hash] = xy
		prod, known := r.Producers[b.Producer]
		if !known {
			prod = -1
		}
		byProducer[prod] = append(byProducer[prod], xy)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Blocks seen by node %d (heights %d to %d)", n, lo, top)
	p.X.Label.Text, p.Y.Label.Text = "height", "branch"
	p.Y.Min, p.Y.Max = -0.6, float64(rows)-0.4
	p.X.Tick.Marker, p.Y.Tick.Marker = figure.RoundTicks{Whole: true}, rowTicks(rows)
	edges := segments{style: draw.LineStyle{Color: color.Gray{Y: 150}, Width: vg.Points(0.7)}}
	for _, b := range blocks {
		if q, ok := pos[b.Parent]; ok {
			if xy, ok := pos[b.Hash]; ok {
				edges.pairs = append(edges.pairs, [2]plotter.XY{q, xy})
			}
		}
	}
	p.Add(edges)
	legend := plot.NewLegend()
	for prod := -1; prod < r.Nodes; prod++ {
		pts := byProducer[prod]
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("block tree: %w", err)
		}
		name := "genesis or unknown"
		sc.GlyphStyle = draw.GlyphStyle{Color: color.Gray{Y: 60}, Radius: vg.Points(3), Shape: draw.BoxGlyph{}}
		if prod >= 0 {
			name = fmt.Sprintf("by node %d", prod)
			sc.GlyphStyle = draw.GlyphStyle{Color: nodeColour(prod), Radius: vg.Points(3.5), Shape: filledShapes[prod%len(filledShapes)]}
		}
		p.Add(sc)
		legend.Add(name, sc)
	}
	w := vg.Length(max(20, min(60, float64(top-lo)/8+8))) * vg.Centimeter
	if fins := r.Finalized[n]; len(fins) > 0 {
		if err := figure.AddMarks(p, []figure.Mark{{X: float64(fins[len(fins)-1].Height), Label: "finalized"}}, p.Y.Min, p.Y.Max, w); err != nil {
			return err
		}
	}
	return figure.SavePlot(p, &legend, w, vg.Length(6+1.2*float64(rows))*vg.Centimeter, path)
}

// nodeColour is node i's colour in every plot of a run (the heads plot's
// series i is node i) and on the dashboard.
func nodeColour(i int) color.Color { return plotutil.Color(i) }

// segments draws separate line segments, such as a tree's edges.
type segments struct {
	pairs [][2]plotter.XY
	style draw.LineStyle
}

func (s segments) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, e := range s.pairs {
		c.StrokeLine2(s.style, trX(e[0].X), trY(e[0].Y), trX(e[1].X), trY(e[1].Y))
	}
}

// filledShapes mark a block's producer together with its colour; filled,
// so that a block stays visible at the size of a tree's boxes.
var filledShapes = []draw.GlyphDrawer{draw.BoxGlyph{}, draw.CircleGlyph{}, draw.PyramidGlyph{}}

// rowTicks labels the rows of a block tree: the canonical chain, then side
// branches.
func rowTicks(rows int) plot.ConstantTicks {
	ticks := plot.ConstantTicks{{Value: 0, Label: "canonical"}}
	for i := 1; i < rows; i++ {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: fmt.Sprintf("side %d", i)})
	}
	return ticks
}

// reorgPlot draws the histogram of reorg depths over every node.
func reorgPlot(path string, rep *Report) error {
	p := plot.New()
	p.Title.Text = "Reorg depth histogram (all nodes)"
	p.X.Label.Text, p.Y.Label.Text = "reorg depth (blocks undone)", "reorgs"
	h := histogram{style: draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}, fill: plotutil.Color(0)}
	maxC := 1
	for d, c := range rep.ReorgDepths {
		h.bars = append(h.bars, plotter.XY{X: float64(d), Y: float64(c)})
		maxC = max(maxC, c)
	}
	sort.Slice(h.bars, func(i, j int) bool { return h.bars[i].X < h.bars[j].X }) // the same file for the same data
	p.Add(plotter.NewGrid(), h)
	p.X.Tick.Marker, p.Y.Tick.Marker = figure.RoundTicks{Whole: true}, figure.RoundTicks{Whole: true}
	p.X.Min, p.Y.Min, p.Y.Max = 0.5, 0, float64(maxC)*1.05
	p.X.Max = 1.5
	for _, b := range h.bars {
		p.X.Max = max(p.X.Max, b.X+0.5)
	}
	if len(h.bars) == 0 {
		p.Title.Text += ": no reorgs"
	}
	return figure.SavePlot(p, nil, 16*vg.Centimeter, 10*vg.Centimeter, path)
}

// histogram draws a bar of height Y at each whole X, 0.8 wide.
type histogram struct {
	bars  plotter.XYs
	style draw.LineStyle
	fill  color.Color
}

func (h histogram) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, b := range h.bars {
		x0, x1, y0, y1 := trX(b.X-0.4), trX(b.X+0.4), trY(0), trY(b.Y)
		if x1-x0 < vg.Points(2) { // many depths: keep a bar visible
			x1 = x0 + vg.Points(2)
		}
		rect := vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x1, Y: y1}}
		c.FillPolygon(h.fill, c.ClipPolygonY([]vg.Point{rect.Min, {X: x1, Y: y0}, rect.Max, {X: x0, Y: y1}}))
		c.StrokeLines(h.style, c.ClipLinesY([]vg.Point{rect.Min, {X: x1, Y: y0}, rect.Max, {X: x0, Y: y1}, rect.Min})...)
	}
}
