package plot

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"
)

func chart() Chart {
	var dates []time.Time
	var cost, sales []float64
	for d := 1; d <= 30; d++ {
		dates = append(dates, time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC))
		cost = append(cost, 1000+float64(d*37%11)*100)
		sales = append(sales, 12000+float64(d*53%17)*900)
	}
	sales[10] = math.NaN() // a day with no export
	return Chart{Title: "일별 비용과 매출", Dates: dates, Series: []Series{{Name: "비용", Values: cost}, {Name: "매출", Values: sales}}, YLabel: "원"}
}

func TestLegendNeverCoversThePlot(t *testing.T) {
	for _, kind := range []string{"line", "bar"} {
		c := chart()
		c.Kind = kind
		s, err := Layout(c)
		if err != nil {
			t.Fatal(err)
		}
		l, p := s.LegendArea, s.PlotArea
		if l[1]+l[3] > p[1] || l[2] <= 0 {
			t.Fatalf("%s: legend %v reaches into the plot %v", kind, l, p)
		}
		var svg bytes.Buffer
		if err := s.SVG(&svg, c.Title); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"일별 비용과 매출", ">비용</text>", ">매출</text>", ">20,000</text>", ">2026-11-01</text>", "font-family: 'Noto Sans CJK KR'"} {
			if !strings.Contains(svg.String(), want) {
				t.Errorf("%s: the SVG lacks %q", kind, want)
			}
		}
	}
}

func TestPNGIsDrawnWithAKoreanFont(t *testing.T) {
	fo, err := LoadFont("")
	if err != nil {
		t.Fatalf("%v (.ci/run installs fonts-noto-cjk)", err)
	}
	s, err := Layout(chart())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.PNG(&buf, fo); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 960 || b.Dy() != 480 {
		t.Fatalf("size %v", b)
	}
	// The title's Hangul is drawn: dark pixels where it stands.
	dark := 0
	for y := 10; y < 36; y++ {
		for x := 16; x < 200; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x4000 {
				dark++
			}
		}
	}
	if dark < 200 {
		t.Fatalf("only %d dark pixels where the title is", dark)
	}
	// A font without Hangul is refused, naming the character.
	latin, err := LoadFont("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PNG(&bytes.Buffer{}, latin); err == nil || !strings.Contains(err.Error(), "has no glyph for '일' (U+C77C)") {
		t.Fatalf("error %v", err)
	}
}

func TestThousands(t *testing.T) {
	for _, c := range []struct {
		v, step float64
		want    string
	}{{1234567, 1000, "1,234,567"}, {-5000, 1000, "-5,000"}, {0.25, 0.05, "0.25"}, {0, 1, "0"}, {999, 100, "999"}} {
		if got := Thousands(c.v, c.step); got != c.want {
			t.Errorf("Thousands(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}
