package epub

import (
	"fmt"
	"strings"

	"github.com/novelfactory/runner/internal/quote"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
)

// checkCSS refuses a stylesheet epubcheck would reject: one that imports
// another (@import), loads a file with url(…) that the book does not hold
// (anything but the embedded font, a data: URL or an #id), or leaves a
// block or comment open, or holds what is not CSS: a < outside strings and
// comments (CSS-008), bytes that are not UTF-8. name is how messages name the file; allowed lists
// the url() targets the book holds, as written from styles/book.css.
func checkCSS(name, css string, allowed map[string]bool) error {
	if err := manuscript.CheckUTF8(name, []byte(css)); err != nil {
		return err
	}
	line, col := 1, 1
	at := func() string { return fmt.Sprintf("%s:%d:%d", name, line, col) }
	depth, openLine, openCol := 0, 0, 0
	for i := 0; i < len(css); {
		c := css[i]
		switch {
		case strings.HasPrefix(css[i:], "/*"):
			end := strings.Index(css[i+2:], "*/")
			if end < 0 {
				return fmt.Errorf("%s: a comment (/*) is never closed", at())
			}
			i = advance(css, i, i+2+end+2, &line, &col)
			continue
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(css) && css[j] != c && css[j] != '\n' {
				if css[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(css) || css[j] != c {
				return fmt.Errorf("%s: a string is never closed", at())
			}
			i = advance(css, i, j+1, &line, &col)
			continue
		case c == '@' && strings.HasPrefix(strings.ToLower(css[i:]), "@import"):
			return fmt.Errorf("%s: @import loads another stylesheet, which the book does not hold; paste its rules into %s instead", at(), name)
		case (c == 'u' || c == 'U') && strings.HasPrefix(strings.ToLower(css[i:]), "url(") && (i == 0 || !isIdentByte(css[i-1])):
			arg := css[i+4:]
			end := strings.IndexByte(arg, ')')
			if end < 0 {
				return fmt.Errorf("%s: url( is never closed", at())
			}
			target := strings.Trim(strings.TrimSpace(arg[:end]), `"'`)
			lower := strings.ToLower(target)
			if !strings.HasPrefix(target, "#") && !strings.HasPrefix(lower, "data:") && !allowed[target] {
				return fmt.Errorf("%s: url(%s) loads a file the book does not hold (it embeds the episodes' images and the font: param only); remove it", at(), quote.Cut(target))
			}
		case c == '<':
			return fmt.Errorf("%s: a < outside a string or comment is not CSS (</style> or HTML pasted in?); remove it", at())
		case c == '{':
			if depth == 0 {
				openLine, openCol = line, col
			}
			depth++
		case c == '}':
			if depth == 0 {
				return fmt.Errorf("%s: a } closes no block", at())
			}
			depth--
		}
		i = advance(css, i, i+1, &line, &col)
	}
	if depth > 0 {
		return fmt.Errorf("%s:%d:%d: a { is never closed", name, openLine, openCol)
	}
	return nil
}

// advance moves from i to j in s, counting lines and columns (in bytes).
func advance(s string, i, j int, line, col *int) int {
	for ; i < j && i < len(s); i++ {
		if s[i] == '\n' {
			*line, *col = *line+1, 1
		} else {
			*col++
		}
	}
	return j
}

func isIdentByte(c byte) bool {
	return c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
