package main

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
)

// chromium finds the headless browser .ci/run installs.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: apt-get install chromium (as .ci/run does)")
	return ""
}

// TestFinanceRecipeIsIdempotentAndGrowsByADay runs the shipped finance
// recipe twice (same ledger), then with a new day of sales and usage (one
// more row, earlier rows untouched), and opens the report in headless
// Chromium.
func TestFinanceRecipeIsIdempotentAndGrowsByADay(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	apply := func() {
		t.Helper()
		res := runner(t, dir, baseEnv(), "apply", "recipes/finance.yaml")
		if res.code != 0 {
			t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
		}
	}
	ledger := filepath.Join(dir, "build/metrics/finance.csv")
	apply()
	first := readFile(t, ledger)
	lines := strings.Split(strings.TrimSpace(first), "\n")
	if lines[0] != "date,cost,sales,profit" || len(lines) != 15 {
		t.Fatalf("ledger:\n%s", first)
	}
	if !strings.HasPrefix(lines[1], "2026-11-01,") {
		t.Fatalf("first day %q", lines[1])
	}
	apply()
	if again := readFile(t, ledger); again != first {
		t.Fatalf("a second run changed the ledger:\n%s\n---\n%s", first, again)
	}

	// A new day: a sale in the CP949 export and a call in the log.
	ridi := filepath.Join(dir, "examples/finance/sales/ridi-2026-11.csv")
	row, _ := korean.EUCKR.NewEncoder().String("2026.11.15,불씨,7,\"9,900\",\r\n")
	appendFile(t, ridi, row)
	appendFile(t, filepath.Join(dir, "examples/finance/usage/pipeline-2026-11.jsonl"),
		`{"time": "2026-11-15T01:00:00Z", "model": "claude-sonnet-4-5-20250929", "input_tokens": 100000, "output_tokens": 10000}`+"\n")
	apply()
	grown := readFile(t, ledger)
	if !strings.HasPrefix(grown, first) {
		t.Fatalf("earlier days changed:\n%s", grown)
	}
	// 0.1M × $3 + 0.01M × $15 = $0.45 × 1400 = 630 won; profit 9900 − 630.
	if added := strings.TrimPrefix(grown, first); added != "2026-11-15,630,9900,9270\n" {
		t.Fatalf("new rows %q", added)
	}

	// The PNG chart decodes at its size.
	f, err := os.Open(filepath.Join(dir, "build/metrics/finance.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 960 || img.Bounds().Dy() != 480 {
		t.Fatalf("finance.png: %v %v", err, img.Bounds())
	}

	// The report in headless Chromium: a screenshot that is not blank, and
	// text with the title and the latest 7-day total.
	html := filepath.Join(dir, "build/metrics/finance.html")
	page := readFile(t, html)
	for _, banned := range []string{"<script", "<link", "src=", "href=", "url(", "@import"} {
		if strings.Contains(page, banned) {
			t.Errorf("the report is not self-contained: it has %q", banned)
		}
	}
	browser := chromium(t)
	shot := filepath.Join(dir, "report.png")
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + filepath.Join(dir, "chrome")}
	out, err := exec.Command(browser, append(flags, "--screenshot="+shot, "--window-size=1100,1400", "file://"+html)...).CombinedOutput()
	if err != nil {
		t.Fatalf("chromium screenshot: %v\n%s", err, out)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	colours := map[uint32]bool{}
	nonWhite := 0
	b := sc.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := sc.At(x, y).RGBA()
			colours[(r>>12)<<8|(g>>12)<<4|bl>>12] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				nonWhite++
			}
		}
	}
	if nonWhite < 2000 || len(colours) < 6 {
		t.Fatalf("the screenshot looks blank: %d non-white samples, %d colours", nonWhite, len(colours))
	}
	dom, err := exec.Command(browser, append(flags, "--dump-dom", "file://"+html)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	// The latest 7 days' sales, 11-09 … 11-15, added from the ledger.
	var week int64
	for _, l := range strings.Split(strings.TrimSpace(grown), "\n")[1:] {
		f := strings.Split(l, ",")
		if f[0] >= "2026-11-09" {
			v, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			week += v
		}
	}
	for _, want := range []string{"노벨 팩토리 손익", "최근 7일", groupThousands(week) + " 원", "2026-11-15"} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
