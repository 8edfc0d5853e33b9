// Package quote quotes values inside messages, capped: an error about a
// 10 MB CSV field or a 7 MB list names the value, it does not repeat it.
package quote

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxRunes is how many characters of a value a message shows.
const MaxRunes = 80

// Ellipsis ends the kept part of a cut value, and CutNote follows it (after
// the closing quote, if any) with the value's length. Masking looks for
// them: what is left of a secret at a cut must be masked too.
const (
	Ellipsis = "…"
	CutNote  = " bytes in all)"
)

func note(n int) string { return fmt.Sprintf(" (%d%s", n, CutNote) }

// Cut returns s, or its first MaxRunes characters and how long it was.
// It never cuts a character in half.
func Cut(s string) string { return cutAt(s, MaxRunes) }

// MaxMessageRunes is how many characters of a whole message (one that
// holds a value somewhere inside, as a library's error may) are shown.
const MaxMessageRunes = 400

// Message returns s, or its first MaxMessageRunes characters and how long
// it was: for messages built elsewhere, whose values cannot be told apart.
func Message(s string) string { return cutAt(s, MaxMessageRunes) }

func cutAt(s string, max int) string {
	if len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + Ellipsis + note(len(s))
		}
		n++
	}
	return s
}

// Text is s in Go's double quotes, capped like Cut: "abc…" (1048576 bytes in all).
func Text(s string) string {
	if utf8.RuneCountInString(s) <= MaxRunes {
		return strconv.Quote(s)
	}
	n := 0
	for i := range s {
		if n == MaxRunes {
			return strconv.Quote(s[:i]+Ellipsis) + note(len(s))
		}
		n++
	}
	return strconv.Quote(s)
}
