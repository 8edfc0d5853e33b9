// Package plot draws a dated line or bar chart — one series per column,
// Korean title and labels, readable ticks with thousands separators, a
// legend above the plot area so it never covers the data — as SVG (text
// drawn by the viewer's fonts through a CSS font stack) and as PNG
// (rasterised here with a CJK font it checks for every glyph).
package plot

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/novelfactory/runner/internal/decimal"
)

// Series is one line of the chart.
type Series struct {
	Name   string
	Values []float64 // NaN: no value that day
}

// Chart is what to draw.
type Chart struct {
	Title  string
	Dates  []time.Time
	Series []Series
	// Kind is "line" or "bar".
	Kind          string
	Width, Height int
	// YLabel names the values' unit (원, USD).
	YLabel string
}

// palette is readable on white and for common colour blindness (Okabe–Ito).
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}

// Color is the colour of series i.
func Color(i int) string { return palette[i%len(palette)] }

// FontStack is the CSS font stack SVG text is drawn with.
const FontStack = "'Noto Sans CJK KR', 'Noto Sans KR', 'Apple SD Gothic Neo', 'Malgun Gothic', 'NanumGothic', sans-serif"

// kind of primitive in a scene.
type kind int

const (
	kLine kind = iota // polyline
	kRect
	kText
)

// prim is one drawn thing, in pixels from the top left.
type prim struct {
	kind   kind
	pts    []float64 // x0,y0,x1,y1,… for lines; x,y,w,h for rects
	color  string
	width  float64
	text   string
	size   float64
	anchor string // start, middle, end
	bold   bool
}

// Scene is a laid-out chart, the same for SVG and PNG.
type Scene struct {
	W, H  int
	prims []prim
	// PlotArea is the plot's x, y, width and height, and LegendArea the legend's: they never overlap.
	PlotArea, LegendArea [4]float64
}

// Layout lays a chart out.
func Layout(c Chart) (*Scene, error) {
	if c.Width <= 0 {
		c.Width = 960
	}
	if c.Height <= 0 {
		c.Height = 480
	}
	if len(c.Dates) == 0 {
		return nil, fmt.Errorf("chart: no rows to draw")
	}
	s := &Scene{W: c.Width, H: c.Height}
	W, H := float64(c.Width), float64(c.Height)
	s.prims = append(s.prims, prim{kind: kRect, pts: []float64{0, 0, W, H}, color: "#ffffff"})
	// Title, then the legend band, then the plot.
	s.text(16, 30, c.Title, 20, "start", "#222222", true)
	legendY := 58.0
	x := 16.0
	for i, se := range c.Series {
		s.prims = append(s.prims, prim{kind: kLine, pts: []float64{x, legendY - 5, x + 22, legendY - 5}, color: Color(i), width: 3})
		s.text(x+28, legendY, se.Name, 13, "start", "#333333", false)
		x += 28 + textWidth(se.Name, 13) + 24
	}
	s.LegendArea = [4]float64{16, legendY - 14, x - 16, 18}
	lo, hi := valueRange(c)
	step := niceStep((hi - lo) / 5)
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if hi == lo {
		hi = lo + step
	}
	// The left margin fits the widest tick label.
	var ticks []string
	for v := lo; v <= hi+step/2; v += step {
		ticks = append(ticks, Thousands(v, step))
	}
	left := 24.0
	for _, t := range ticks {
		left = math.Max(left, textWidth(t, 12)+24)
	}
	top, right, bottom := 78.0, 24.0, 56.0
	px, py, pw, ph := left, top, W-left-right, H-top-bottom
	s.PlotArea = [4]float64{px, py, pw, ph}
	yOf := func(v float64) float64 { return py + ph - (v-lo)/(hi-lo)*ph }
	for i, t := range ticks {
		v := lo + float64(i)*step
		y := yOf(v)
		s.prims = append(s.prims, prim{kind: kLine, pts: []float64{px, y, px + pw, y}, color: "#e3e3e3", width: 1})
		s.text(px-8, y+4, t, 12, "end", "#555555", false)
	}
	if lo < 0 && hi > 0 {
		s.prims = append(s.prims, prim{kind: kLine, pts: []float64{px, yOf(0), px + pw, yOf(0)}, color: "#999999", width: 1})
	}
	if c.YLabel != "" { // at the right end of the legend band, clear of it
		s.text(px+pw, legendY, c.YLabel, 12, "end", "#777777", false)
	}
	n := len(c.Dates)
	slot := pw / float64(n)
	xOf := func(i int) float64 { return px + slot*(float64(i)+0.5) }
	// Date ticks: about one per 80 px, on whole days.
	every := int(math.Ceil(float64(n) / math.Max(1, pw/80)))
	for i := 0; i < n; i += every {
		x := xOf(i)
		s.prims = append(s.prims, prim{kind: kLine, pts: []float64{x, py + ph, x, py + ph + 5}, color: "#999999", width: 1})
		label := c.Dates[i].Format("1/2")
		if i == 0 || c.Dates[i].Year() != c.Dates[i-every].Year() {
			label = c.Dates[i].Format("2006-01-02")
		}
		s.text(x, py+ph+20, label, 12, "middle", "#555555", false)
	}
	s.prims = append(s.prims, prim{kind: kLine, pts: []float64{px, py + ph, px + pw, py + ph}, color: "#999999", width: 1})
	for si, se := range c.Series {
		if c.Kind == "bar" {
			bw := slot * 0.8 / float64(len(c.Series))
			for i, v := range se.Values {
				if math.IsNaN(v) {
					continue
				}
				x0 := xOf(i) - slot*0.4 + float64(si)*bw
				y0, y1 := yOf(math.Max(v, 0)), yOf(math.Min(v, 0))
				s.prims = append(s.prims, prim{kind: kRect, pts: []float64{x0, y0, bw * 0.9, math.Max(y1-y0, 1)}, color: Color(si)})
			}
			continue
		}
		var pts []float64
		flush := func() {
			if len(pts) >= 4 {
				s.prims = append(s.prims, prim{kind: kLine, pts: pts, color: Color(si), width: 2.5})
			}
			pts = nil
		}
		for i, v := range se.Values {
			if math.IsNaN(v) {
				flush()
				continue
			}
			pts = append(pts, xOf(i), yOf(v))
		}
		flush()
	}
	return s, nil
}

func (s *Scene) text(x, y float64, t string, size float64, anchor, color string, bold bool) {
	s.prims = append(s.prims, prim{kind: kText, pts: []float64{x, y}, text: t, size: size, anchor: anchor, color: color, bold: bold})
}

// textWidth estimates a label's width for layout: Hangul and other wide
// characters take a full em, the rest about half.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x1100 {
			w += size
		} else {
			w += size * 0.6
		}
	}
	return w
}

func valueRange(c Chart) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, se := range c.Series {
		for _, v := range se.Values {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	if c.Kind == "bar" || lo > 0 {
		lo = math.Min(lo, 0) // bars and positive money start at zero
	}
	return lo, hi
}

// niceStep rounds a step up to 1, 2 or 5 × 10^n.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*exp {
			return m * exp
		}
	}
	return 10 * exp
}

// Thousands writes v with thousands separators, with as many decimals as
// the tick step needs.
func Thousands(v, step float64) string {
	decimals := 0
	if step > 0 && step < 1 {
		decimals = int(math.Ceil(-math.Log10(step)))
	}
	s := decimal.GroupThousands(strconv.FormatFloat(math.Abs(v), 'f', decimals, 64))
	if v < 0 && strings.Trim(s, "0.,") != "" {
		s = "-" + s
	}
	return s
}
