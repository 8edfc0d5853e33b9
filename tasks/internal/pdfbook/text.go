package pdfbook

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark/util"

	"github.com/novelfactory/runner/tasks/internal/manuscript"
)

// decodeText is the text a Markdown text segment stands for, as CommonMark
// and goldmark's HTML renderer read it, in one pass: a backslash before
// punctuation gives the punctuation (\& is "&", \&amp; is "&amp;"), an
// entity reference its characters (&amp; is "&", &copy; "©"), a numeric
// reference its character (&#44032; and &#xAC00; are "가"; 0 and what is
// no character give U+FFFD). Other text is kept as typed; code is never
// decoded (the caller does not pass it). A reference that makes a
// character a book cannot hold (&#7;) is an error naming the episode, line
// and column of the reference; offset is the segment's start in the
// episode's source (< 0: unknown, the episode alone is named).
func decodeText(v []byte, ch *manuscript.Chapter, offset int) (string, error) {
	if !strings.ContainsAny(string(v), `\&`) {
		return string(v), nil
	}
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) && util.IsPunct(v[i+1]) {
			sb.WriteByte(v[i+1])
			i++
			continue
		}
		if c != '&' {
			sb.WriteByte(c)
			continue
		}
		text, n := reference(v[i:])
		if n == 0 {
			sb.WriteByte(c)
			continue
		}
		for _, r := range text {
			if manuscript.BadChar(r) {
				return "", fmt.Errorf("%s: the character reference %s makes %s", refPlace(ch, offset+i), v[i:i+n], manuscript.BadCharMessage(r))
			}
		}
		sb.WriteString(text)
		i += n - 1
	}
	return sb.String(), nil
}

// reference reads the entity or numeric reference v starts with and
// returns its text and length, or n = 0 when v starts with none.
func reference(v []byte) (text string, n int) {
	if len(v) < 3 || v[0] != '&' {
		return "", 0
	}
	if v[1] == '#' {
		start, base, isDigit := 2, 10, util.IsNumeric
		if v[2] == 'x' || v[2] == 'X' {
			start, base, isDigit = 3, 16, util.IsHexDecimal
		}
		end := start
		for end < len(v) && isDigit(v[end]) {
			end++
		}
		// CommonMark: 1–7 decimal or 1–6 hexadecimal digits.
		if digits := end - start; digits == 0 || end >= len(v) || v[end] != ';' || base == 10 && digits > 7 || base == 16 && digits > 6 {
			return "", 0
		}
		x, _ := strconv.ParseUint(string(v[start:end]), base, 32)
		return string(util.ToValidRune(rune(x))), end + 1
	}
	end := 1
	for end < len(v) && util.IsAlphaNumeric(v[end]) {
		end++
	}
	if end == 1 || end >= len(v) || v[end] != ';' {
		return "", 0
	}
	e, ok := util.LookUpHTML5EntityByName(string(v[1:end]))
	if !ok {
		return "", 0
	}
	return string(e.Characters), end + 1
}

// refPlace is episode:line:col of a byte offset in the episode.
func refPlace(ch *manuscript.Chapter, offset int) string {
	if offset < 0 {
		return ch.Rel
	}
	offset = min(max(offset, 0), len(ch.Source))
	lineStart := strings.LastIndexByte(string(ch.Source[:offset]), '\n') + 1
	return fmt.Sprintf("%s:%d:%d", ch.Rel, manuscript.LineOf(ch.Source, offset), utf8.RuneCount(ch.Source[lineStart:offset])+1)
}
