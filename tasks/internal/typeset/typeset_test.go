package typeset

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// fixed measures every character as 1 unit wide, and a space as 0.5.
type fixed struct{}

func (fixed) Width(s string, _ Style) float64 {
	w := 0.0
	for _, r := range s {
		if r == ' ' {
			w += 0.5
		} else {
			w++
		}
	}
	return w
}

func texts(lines []Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.Text())
	}
	return out
}

func TestKeepAllBreaksOnlyAtSpaces(t *testing.T) {
	lines := Break([]Span{{Text: "새벽 네 시, 서고의 불이 하나씩 꺼졌다. 하윤은 마지막 남은 등불을 들고 계단을 내려갔다."}}, Options{Width: 12}, fixed{})
	want := []string{"새벽 네 시, 서고의 불이", "하나씩 꺼졌다. 하윤은", "마지막 남은 등불을 들고", "계단을 내려갔다."}
	if got := texts(lines); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("lines:\n got %q\nwant %q", got, want)
	}
}

func TestKinsokuMovesTheWordBeforeClosingPunctuation(t *testing.T) {
	// "말했다 …" would end the first line at "말했다" and start the next
	// with "…"; the word before goes down with it.
	lines := Break([]Span{{Text: "그는 조용히 말했다 …그래서"}}, Options{Width: 10}, fixed{})
	for i, l := range lines {
		first, _ := utf8.DecodeRuneInString(l.Text())
		if i > 0 && CannotStart(first) {
			t.Fatalf("line %d starts with %q: %q", i, first, texts(lines))
		}
	}
	if got := texts(lines); got[0] != "그는 조용히" {
		t.Fatalf("first line %q, want the word before the ellipsis carried down: %q", got[0], got)
	}
}

func TestLongWordIsSplitWithoutOverflowOrKinsoku(t *testing.T) {
	word := strings.Repeat("가나다라마바사아자”", 6) // closing quotes every 10th character
	lines := Break([]Span{{Text: word}}, Options{Width: 10, Justify: true}, fixed{})
	joined := ""
	for i, l := range lines {
		if l.Width > 10+1e-9 {
			t.Fatalf("line %d is %.2f wide, more than 10", i, l.Width)
		}
		first, _ := utf8.DecodeRuneInString(l.Text())
		if CannotStart(first) {
			t.Fatalf("line %d starts with %q: %q", i, first, texts(lines))
		}
		joined += l.Text()
	}
	if joined != word {
		t.Fatalf("text changed: %q", joined)
	}
}

func TestNoLineEndsWithOpeningPunctuation(t *testing.T) {
	lines := Break([]Span{{Text: "가나다라마바사아자“차카타파하"}}, Options{Width: 10}, fixed{})
	for i, l := range lines {
		r, _ := utf8.DecodeLastRuneInString(l.Text())
		if CannotEnd(r) {
			t.Fatalf("line %d ends with %q: %q", i, r, texts(lines))
		}
	}
}

func TestJustifiedLinesFillTheMeasureButTheLast(t *testing.T) {
	lines := Break([]Span{{Text: strings.Repeat("하윤은 등불을 들었다. ", 8)}}, Options{Width: 15, Indent: 1, Justify: true}, fixed{})
	if len(lines) < 3 {
		t.Fatalf("want several lines, got %q", texts(lines))
	}
	for i, l := range lines[:len(lines)-1] {
		if math.Abs(l.Width-15) > 1e-9 {
			t.Fatalf("line %d is %.3f wide, want 15 (justified)", i, l.Width)
		}
	}
	if lines[0].Pieces[0].X != 1 {
		t.Fatalf("first line starts at %.2f, want the indent 1", lines[0].Pieces[0].X)
	}
	if last := lines[len(lines)-1]; last.Width >= 15 {
		t.Fatalf("last line is justified (%.2f wide)", last.Width)
	}
}

func TestForcedBreaksAndStyles(t *testing.T) {
	lines := Break([]Span{{Text: "첫 줄"}, {Text: "\n"}, {Text: "굵게", Style: Bold}, {Text: "했다"}}, Options{Width: 40, Justify: true}, fixed{})
	if got := texts(lines); len(got) != 2 || got[0] != "첫 줄" || got[1] != "굵게했다" {
		t.Fatalf("lines %q", got)
	}
	if lines[0].Width != (fixed{}).Width("첫 줄", 0) {
		t.Fatalf("a line ended by a forced break is justified: %.2f", lines[0].Width)
	}
	if p := lines[1].Pieces; len(p) != 2 || p[0].Style != Bold || p[1].Style != 0 || p[1].X != 2 {
		t.Fatalf("pieces %+v", p)
	}
}

// TestRandomParagraphsNeverOverflow sets random Korean paragraphs with
// random punctuation at random widths: no line is wider than the measure,
// and no line starts with closing punctuation unless its predecessor is a
// single character (where nothing else could be done).
func TestRandomParagraphsNeverOverflow(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	words := []string{"하윤은", "“누구", "있어요?”", "…", "그래서", "서고의", "불이", "꺼졌다.", "「문」", "열쇠를", "(잠시)", "아아아아아아아아아아아아아아", "!", "~"}
	for trial := 0; trial < 2000; trial++ {
		var sb strings.Builder
		for i := 0; i < 5+rng.IntN(30); i++ {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words[rng.IntN(len(words))])
		}
		width := 3 + float64(rng.IntN(20))
		text := sb.String()
		lines := Break([]Span{{Text: text}}, Options{Width: width, Justify: rng.IntN(2) == 0}, fixed{})
		var rebuilt []string
		for i, l := range lines {
			if l.Width > width+1e-9 {
				t.Fatalf("trial %d: line %d of %q is %.2f wide, measure %.0f", trial, i, text, l.Width, width)
			}
			rebuilt = append(rebuilt, l.Text())
		}
		if strings.ReplaceAll(strings.Join(rebuilt, ""), " ", "") != strings.ReplaceAll(text, " ", "") {
			t.Fatalf("trial %d: text changed:\n%q\n%q", trial, text, rebuilt)
		}
	}
}

// counting is fixed, and counts the characters it measures: the work of a
// layout, independent of the machine's speed.
type counting struct{ runes *int }

func (c counting) Width(s string, st Style) float64 {
	*c.runes += utf8.RuneCountInString(s)
	return fixed{}.Width(s, st)
}

// TestBreakingWorkGrowsLinearly sets text twice as long and checks that the
// characters measured at most about double. Before, an 8,000-character
// word without spaces measured 3.3 million characters (every line rebuilt
// the whole rest of the word), and a paragraph whose words each started
// with closing punctuation copied the rest of the paragraph at every line.
func TestBreakingWorkGrowsLinearly(t *testing.T) {
	for name, unit := range map[string]string{
		"a word without spaces":              "그녀는문을열었다",
		"words and spaces":                   "그녀는 문을 열었다. ",
		"words each starting with a closing": "가나 .다라 ",
		"combining marks and joiners":        "e\u0301\u200d👩\u200d👩 ",
	} {
		t.Run(name, func(t *testing.T) {
			work := func(n int) int {
				runes := 0
				text := strings.Repeat(unit, n/utf8.RuneCountInString(unit))
				lines := Break([]Span{{Text: text}}, Options{Width: 30, Indent: 1, Justify: true}, counting{&runes})
				if len(lines) < n/40 {
					t.Fatalf("%d characters set in %d lines", n, len(lines))
				}
				return runes
			}
			small, large := work(4_000), work(8_000)
			if float64(large) > 2.5*float64(small) {
				t.Fatalf("measured %d characters for 4,000 and %d for 8,000: %.1f× the work for 2× the text", small, large, float64(large)/float64(small))
			}
		})
	}
}

// TestNoWidthLeftStillEnds sets text on lines of no width or less: every
// character goes on a line of its own, and breaking ends.
func TestNoWidthLeftStillEnds(t *testing.T) {
	for _, width := range []float64{0, -5, 0.3} {
		lines := Break([]Span{{Text: "가나다 라"}}, Options{Width: width, Indent: 2}, fixed{})
		if got := strings.Join(texts(lines), "|"); got != "가|나|다|라" {
			t.Errorf("width %g: lines %q", width, got)
		}
	}
}
