package pdfbook

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/novelfactory/runner/tasks/internal/typeset"
)

// runeCounter measures every character as 1 mm and counts the characters
// it measures.
type runeCounter struct{ runes *int }

func (c runeCounter) Width(s string, _ typeset.Style) float64 {
	n := utf8.RuneCountInString(s)
	*c.runes += n
	return float64(n)
}

// TestFittingATitleIsLinear fits titles of 10,000 and 20,000 characters
// (a heading an LLM filled with a whole episode) into a contents line and
// a running head. Before, the title was shortened one character at a time
// and measured again each time: 50 million characters measured for the
// 10,000-character title, 200 million for 20,000 (4×).
func TestFittingATitleIsLinear(t *testing.T) {
	work := func(n int) int {
		runes := 0
		title := string([]rune(strings.Repeat("그녀는 문을 열었다. ", n/11+1))[:n])
		got := fitText(title, 80, 0, runeCounter{&runes})
		if utf8.RuneCountInString(got) != 80 || !strings.HasSuffix(got, "…") {
			t.Fatalf("fitted to %q", got)
		}
		return runes
	}
	small, large := work(10_000), work(20_000)
	if float64(large) > 2.5*float64(small) {
		t.Fatalf("measured %d characters for 10,000 and %d for 20,000", small, large)
	}
	if small > 3*10_000 {
		t.Fatalf("measured %d characters to fit 10,000", small)
	}
}
