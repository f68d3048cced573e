package testnet

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// Plots are hand-written SVG: no dependency, and any browser shows them.

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#d62728"}

func color(i int) string {
	if i < 0 {
		return "#444444"
	}
	return palette[i%len(palette)]
}

type svg struct {
	b    strings.Builder
	w, h int
}

func newSVG(w, h int, title string) *svg {
	s := &svg{w: w, h: h}
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&s.b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	s.text(w/2, 18, "middle", 14, title)
	return s
}

func (s *svg) line(x1, y1, x2, y2 float64, stroke string, width float64, dash bool) {
	d := ""
	if dash {
		d = ` stroke-dasharray="4,3"`
	}
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>`+"\n", x1, y1, x2, y2, stroke, width, d)
}

func (s *svg) text(x, y int, anchor string, size int, t string) {
	fmt.Fprintf(&s.b, `<text x="%d" y="%d" text-anchor="%s" font-size="%d">%s</text>`+"\n", x, y, anchor, size, html.EscapeString(t))
}

func (s *svg) rect(x, y, w, h float64, fill, stroke string) {
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="%s"/>`+"\n", x, y, w, h, fill, stroke)
}

func (s *svg) polyline(pts [][2]float64, stroke string) {
	var b strings.Builder
	for _, p := range pts {
		fmt.Fprintf(&b, "%.1f,%.1f ", p[0], p[1])
	}
	fmt.Fprintf(&s.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", b.String(), stroke)
}

func (s *svg) write(path string) error {
	s.b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(s.b.String()), 0o644)
}

// axes draws a frame with ticks; it returns the plotting functions.
func (s *svg) axes(left, top, right, bottom int, xmin, xmax, ymin, ymax float64, xlabel, ylabel string) (fx, fy func(float64) float64) {
	if xmax <= xmin {
		xmax = xmin + 1
	}
	if ymax <= ymin {
		ymax = ymin + 1
	}
	pw, ph := float64(s.w-left-right), float64(s.h-top-bottom)
	fx = func(x float64) float64 { return float64(left) + (x-xmin)/(xmax-xmin)*pw }
	fy = func(y float64) float64 { return float64(top) + ph - (y-ymin)/(ymax-ymin)*ph }
	s.line(float64(left), float64(top)+ph, float64(left)+pw, float64(top)+ph, "black", 1, false)
	s.line(float64(left), float64(top), float64(left), float64(top)+ph, "black", 1, false)
	for i := 0; i <= 5; i++ {
		xv := xmin + (xmax-xmin)*float64(i)/5
		yv := ymin + (ymax-ymin)*float64(i)/5
		s.text(int(fx(xv)), int(float64(top)+ph+15), "middle", 10, trimNum(xv))
		s.text(left-5, int(fy(yv))+4, "end", 10, trimNum(yv))
	}
	s.text(left+int(pw/2), s.h-5, "middle", 12, xlabel)
	fmt.Fprintf(&s.b, `<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>`+"\n", top+int(ph/2), top+int(ph/2), html.EscapeString(ylabel))
	return fx, fy
}

func trimNum(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprint(int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}

type plotFile struct{ title, file string }

func writePlots(dir string, r *Records, rep *Report) ([]plotFile, error) {
	var out []plotFile
	canon := canonicalChain(r)
	for n := 0; n < r.Nodes; n++ {
		f := fmt.Sprintf("blocktree-node%d.svg", n)
		if err := blockTreeSVG(filepath.Join(dir, f), r, canon, n); err != nil {
			return nil, err
		}
		out = append(out, plotFile{fmt.Sprintf("Block tree seen by node %d", n), f})
	}
	if err := headsSVG(filepath.Join(dir, "heads.svg"), r); err != nil {
		return nil, err
	}
	out = append(out, plotFile{"Head height over time", "heads.svg"})
	if err := reorgSVG(filepath.Join(dir, "reorg-depth.svg"), rep); err != nil {
		return nil, err
	}
	out = append(out, plotFile{"Reorg depth histogram", "reorg-depth.svg"})
	return out, nil
}

// maxTreeHeights is how many of the latest heights a block tree plot shows.
const maxTreeHeights = 400

// blockTreeSVG draws the blocks node n saw: the final canonical chain on one
// row, side branches below it, each block coloured by the node that
// produced it, edges to parents.
func blockTreeSVG(path string, r *Records, canon map[common.Hash]bool, n int) error {
	var blocks []*BlockRec
	var top uint64
	for _, b := range r.Blocks {
		if _, seen := b.SeenMs[n]; seen || b.Height == 0 {
			blocks = append(blocks, b)
			top = max(top, b.Height)
		}
	}
	lo := uint64(0)
	if top > maxTreeHeights {
		lo = top - maxTreeHeights
	}
	sort.Slice(blocks, func(i, j int) bool {
		if blocks[i].Height != blocks[j].Height {
			return blocks[i].Height < blocks[j].Height
		}
		return blocks[i].Hash.Hex() < blocks[j].Hash.Hex()
	})
	pos := map[common.Hash][2]float64{}
	rank := map[uint64]int{}
	const dx, dy, left, top0 = 14.0, 22.0, 40.0, 60.0
	rows := 1
	for _, b := range blocks {
		if b.Height < lo {
			continue
		}
		row := 0
		if !canon[b.Hash] {
			rank[b.Height]++
			row = rank[b.Height]
			rows = max(rows, row+1)
		}
		pos[b.Hash] = [2]float64{left + float64(b.Height-lo)*dx, top0 + float64(row)*dy}
	}
	w := int(left + float64(top-lo+2)*dx + 20)
	h := int(top0 + float64(rows)*dy + 40)
	s := newSVG(max(w, 420), h, fmt.Sprintf("Blocks seen by node %d (heights %d-%d; lower rows: side branches)", n, lo, top))
	for _, b := range blocks {
		p, ok := pos[b.Hash]
		if !ok {
			continue
		}
		if q, ok := pos[b.Parent]; ok {
			s.line(q[0], q[1], p[0], p[1], "#999999", 1, false)
		}
	}
	for _, b := range blocks {
		p, ok := pos[b.Hash]
		if !ok {
			continue
		}
		prod, known := r.Producers[b.Producer]
		if !known {
			prod = -1
		}
		stroke := "black"
		if !canon[b.Hash] {
			stroke = "#d62728"
		}
		s.rect(p[0]-5, p[1]-5, 10, 10, color(prod), stroke)
	}
	for i := 0; i < r.Nodes; i++ {
		x := float64(left) + float64(i)*90
		s.rect(x, float64(h-22), 10, 10, color(i), "black")
		s.text(int(x)+14, h-13, "start", 11, fmt.Sprintf("by node %d", i))
	}
	return s.write(path)
}

// headsSVG draws every node's head height over time, with the run's actions
// as dashed lines.
func headsSVG(path string, r *Records) error {
	s := newSVG(900, 420, "Head height over time")
	var tmax float64
	var hmax uint64
	for _, e := range r.Events {
		tmax = max(tmax, float64(e.TimeMs-r.StartMs)/1000)
		hmax = max(hmax, e.Height)
	}
	fx, fy := s.axes(60, 40, 110, 50, 0, tmax, 0, float64(hmax), "seconds since start", "head height")
	for n := 0; n < r.Nodes; n++ {
		var pts [][2]float64
		for _, e := range r.Events {
			if e.Node != n {
				continue
			}
			x, y := fx(float64(e.TimeMs-r.StartMs)/1000), fy(float64(e.Height))
			if len(pts) > 0 {
				pts = append(pts, [2]float64{x, pts[len(pts)-1][1]})
			}
			pts = append(pts, [2]float64{x, y})
		}
		if len(pts) > 0 {
			s.polyline(pts, color(n))
		}
		s.text(900-100, 50+16*n, "start", 11, fmt.Sprintf("node %d", n))
		s.rect(900-112, float64(41+16*n), 9, 9, color(n), color(n))
	}
	for i, a := range r.Actions {
		x := fx(float64(a.TimeMs-r.StartMs) / 1000)
		s.line(x, 40, x, float64(420-50), "#888888", 1, true)
		s.text(int(x)+3, 52+12*(i%6), "start", 10, a.What)
	}
	return s.write(path)
}

// reorgSVG draws the histogram of reorg depths.
func reorgSVG(path string, rep *Report) error {
	s := newSVG(600, 360, "Reorg depth histogram (all nodes)")
	maxD, maxC := 1, 1
	for d, c := range rep.ReorgDepths {
		maxD, maxC = max(maxD, d), max(maxC, c)
	}
	fx, fy := s.axes(60, 40, 20, 50, 0.5, float64(maxD)+0.5, 0, float64(maxC), "reorg depth (blocks undone)", "reorgs")
	for d := 1; d <= maxD; d++ {
		c := rep.ReorgDepths[d]
		x0, x1 := fx(float64(d)-0.4), fx(float64(d)+0.4)
		s.rect(x0, fy(float64(c)), x1-x0, fy(0)-fy(float64(c)), "#1f77b4", "black")
	}
	if len(rep.ReorgDepths) == 0 {
		s.text(300, 180, "middle", 14, "no reorgs")
	}
	return s.write(path)
}
