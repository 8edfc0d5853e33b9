// Package typeset breaks styled text into justified lines the way Korean
// books are set: words are kept whole (keep-all) and broken only at spaces,
// no line starts with closing punctuation or ends with opening punctuation
// (kinsoku), and no line is ever wider than the measure — a word longer than
// a line is split between characters, still obeying kinsoku.
package typeset

import (
	"strings"
	"unicode/utf8"
)

// Style is how a piece of text is drawn; the measurer gives its widths.
type Style uint8

// Styles combine as bit flags.
const (
	Bold Style = 1 << iota
	Italic
	Strike
	Mono
	Small
)

// Span is a run of text in one style. "\n" in Text forces a line break.
type Span struct {
	Text  string
	Style Style
}

// Measurer gives the width of text drawn in a style.
type Measurer interface {
	Width(s string, st Style) float64
}

// Piece is a run of text in one style placed on a line: X is from the
// line's left edge, W its width including the line's letter-spacing.
type Piece struct {
	Text  string
	Style Style
	X, W  float64
}

// Line is one set line.
type Line struct {
	Pieces []Piece
	// Spacing is the room added after every character but the last, to justify it.
	Spacing float64
	// Width is the distance from the line's left edge to the end of its last piece.
	Width float64
}

// Text is the line's text.
func (l Line) Text() string {
	var sb strings.Builder
	for _, p := range l.Pieces {
		sb.WriteString(p.Text)
	}
	return sb.String()
}

// Options shape a paragraph.
type Options struct {
	// Width is the measure; Indent shortens the first line.
	Width, Indent float64
	// Justify spreads every line but the last (and those ended by "\n") to the full width.
	Justify bool
}

// noStart are characters a line must not start with; noEnd, must not end with.
const (
	noStart = ".,!?:;%)]}»›”’…‥~〜·・、。，．！？：；）」』〉》】〕〗〙〛ー-–—"
	noEnd   = "([{«‹“‘「『〈《【〔〖〘〚"
)

// CannotStart says whether a line may not begin with r (kinsoku).
func CannotStart(r rune) bool { return strings.ContainsRune(noStart, r) }

// CannotEnd says whether a line may not end with r.
func CannotEnd(r rune) bool { return strings.ContainsRune(noEnd, r) }

// frag is a run of one word in one style.
type frag struct {
	text  string
	style Style
	w     float64
}

// word is text between spaces, possibly in several styles.
type word struct {
	frags  []frag
	w      float64
	space  float64 // width of the space before it
	forced bool    // a forced line break comes before it
}

func (w word) firstRune() rune {
	for _, f := range w.frags {
		if f.text != "" {
			r, _ := utf8.DecodeRuneInString(f.text)
			return r
		}
	}
	return 0
}

// single says whether the word is at most one character long.
func (w word) single() bool {
	n := 0
	for _, f := range w.frags {
		if f.text == "" {
			continue
		}
		_, size := utf8.DecodeRuneInString(f.text)
		n++
		if n > 1 || size < len(f.text) {
			return false
		}
	}
	return true
}

// Break sets a paragraph into lines no wider than opt.Width (the first line
// no wider than Width-Indent; its pieces start at Indent).
func Break(spans []Span, opt Options, m Measurer) []Line {
	words := split(spans, m)
	var lines []Line
	var cur []word
	first := true
	avail := func() float64 {
		if first {
			return opt.Width - opt.Indent
		}
		return opt.Width
	}
	curWidth := func(ws []word) float64 {
		w := 0.0
		for i, x := range ws {
			if i > 0 {
				w += x.space
			}
			w += x.w
		}
		return w
	}
	emit := func(ws []word, last bool) {
		indent := 0.0
		if first {
			indent = opt.Indent
		}
		lines = append(lines, place(ws, indent, avail(), opt.Justify && !last, m))
		first = false
	}
	// words[i] is the next word; a word pushed back goes to words[i-1],
	// where it came from, so no step copies the rest of the paragraph.
	for i := 0; i < len(words); {
		w := words[i]
		if w.forced && len(cur) > 0 {
			emit(cur, true)
			cur = nil
		}
		if len(cur) == 0 {
			// A word wider than a whole line is split between characters.
			// A single character wider than the line (or a line of no
			// width) stays whole: it cannot be cut further.
			for w.w > avail() && !w.single() {
				head, tail := splitWord(w, avail(), m)
				emit([]word{head}, false)
				w = tail
			}
			w.space, w.forced = 0, false
			cur = []word{w}
			i++
			continue
		}
		if curWidth(cur)+w.space+w.w <= avail() {
			cur = append(cur, w)
			i++
			continue
		}
		// w goes to the next line — unless it cannot start one (kinsoku).
		if CannotStart(w.firstRune()) {
			if len(cur) > 1 {
				// Its predecessor goes down with it.
				prev := cur[len(cur)-1]
				emit(cur[:len(cur)-1], false)
				cur = nil
				i--
				words[i] = prev
				continue
			}
			// The line holds one word: keep w's leading punctuation on it.
			room := avail() - curWidth(cur) - w.space
			if head, tail := splitWord(w, room, m); head.w <= room && len(tail.frags) > 0 {
				emit(append(cur, head), false)
				cur = nil
				tail.space, tail.forced = 0, false
				words[i] = tail
				continue
			}
			// Nothing fits: overflowing the margin would be worse than a
			// line starting with punctuation.
		}
		emit(cur, false)
		cur = nil
	}
	if len(cur) > 0 {
		emit(cur, true)
	}
	return lines
}

// split cuts spans into words at spaces and forced breaks.
func split(spans []Span, m Measurer) []word {
	var words []word
	var cur word
	pendingSpace, forced := 0.0, false
	flush := func() {
		if len(cur.frags) > 0 {
			cur.space = pendingSpace
			cur.forced = forced
			words = append(words, cur)
			forced = false
		}
		cur = word{}
	}
	for _, s := range spans {
		start := 0
		for i, r := range s.Text {
			if r != ' ' && r != '\t' && r != '\n' && r != '\u00a0' {
				continue
			}
			if i > start {
				cur.add(s.Text[start:i], s.Style, m)
			}
			if r == '\u00a0' { // a no-break space joins
				cur.add("\u00a0", s.Style, m)
				start = i + utf8.RuneLen(r)
				continue
			}
			if len(cur.frags) > 0 {
				flush()
				pendingSpace = m.Width(" ", s.Style)
			}
			if r == '\n' {
				forced = true
			}
			start = i + 1
		}
		if start < len(s.Text) {
			cur.add(s.Text[start:], s.Style, m)
		}
	}
	flush()
	return words
}

func (w *word) add(text string, st Style, m Measurer) {
	fw := m.Width(text, st)
	if n := len(w.frags); n > 0 && w.frags[n-1].style == st {
		w.frags[n-1].text += text
		w.frags[n-1].w += fw
	} else {
		w.frags = append(w.frags, frag{text: text, style: st, w: fw})
	}
	w.w += fw
}

// splitWord cuts a word so that its head fits in width, moving the cut back
// so the tail does not start with closing punctuation and the head does not
// end with opening punctuation. The head has at least one character.
//
// It measures only the head's characters (and the one after it): the tail
// keeps its text as slices of w's, and its width is w's minus the head's.
// A word of a million characters cut into lines is thus measured once, not
// once per line.
func splitWord(w word, width float64, m Measurer) (word, word) {
	type ch struct {
		r     rune
		style Style
		w     float64
		frag  int // index in w.frags
		off   int // byte offset in that frag's text
	}
	var chars []ch
	total, overflow := 0.0, false
scan:
	for fi, f := range w.frags {
		for off, r := range f.text {
			c := ch{r, f.style, m.Width(string(r), f.style), fi, off}
			chars = append(chars, c)
			if total+c.w > width {
				overflow = true // chars ends with the first character that does not fit
				break scan
			}
			total += c.w
		}
	}
	if !overflow {
		return w, word{} // it all fits: nothing to cut
	}
	n := len(chars) - 1
	for n > 1 && n < len(chars) && (CannotStart(chars[n].r) || CannotEnd(chars[n-1].r)) {
		n--
	}
	if n == 0 {
		n = 1
	}
	var head word
	for _, c := range chars[:n] {
		head.add(string(c.r), c.style, m)
	}
	head.space, head.forced = w.space, w.forced
	// The tail starts after the head's last character.
	last := chars[n-1]
	var tail word
	if rest := w.frags[last.frag].text[last.off+utf8.RuneLen(last.r):]; rest != "" {
		tail.frags = append(tail.frags, frag{text: rest, style: last.style})
	}
	tail.frags = append(tail.frags, w.frags[last.frag+1:]...)
	if len(tail.frags) > 0 {
		tail.w = max(w.w-head.w, 0)
		// Only the first frag's width is not known; the others are w's.
		known := 0.0
		for _, f := range tail.frags[1:] {
			known += f.w
		}
		tail.frags[0].w = max(tail.w-known, 0)
	}
	return head, tail
}

// place positions a line's words as runs of one style, spaces included.
// A justified line spreads its extra room evenly between all its characters
// (letter-spacing, as Korean books are justified), so that no gap between
// words grows wide, and text extraction sees one run of text per line.
func place(ws []word, indent, width float64, justify bool, m Measurer) Line {
	var runs []Piece
	chars := 0
	add := func(text string, st Style, w float64) {
		chars += utf8.RuneCountInString(text)
		if n := len(runs); n > 0 && runs[n-1].Style == st {
			runs[n-1].Text += text
			runs[n-1].W += w
			return
		}
		runs = append(runs, Piece{Text: text, Style: st, W: w})
	}
	for i, w := range ws {
		if i > 0 {
			st := w.frags[0].style
			if n := len(runs); n > 0 {
				st = runs[n-1].Style &^ Strike // the space belongs to the run before it, not struck through
			}
			add(" ", st, w.space)
		}
		for _, f := range w.frags {
			add(f.text, f.style, f.w)
		}
	}
	natural := 0.0
	for _, r := range runs {
		natural += r.W
	}
	spacing := 0.0
	if justify && chars > 1 && width > natural {
		spacing = (width - natural) / float64(chars-1)
	}
	line := Line{Spacing: spacing}
	x := indent
	for i, r := range runs {
		n := utf8.RuneCountInString(r.Text)
		r.X = x
		r.W += spacing * float64(n)
		if i == len(runs)-1 {
			r.W -= spacing // nothing follows the line's last character
		}
		x += r.W
		line.Pieces = append(line.Pieces, r)
	}
	line.Width = x
	return line
}
