package manuscript

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// reservedID matches the ids renderers give chapters themselves (ch-001);
// a heading never takes one.
var reservedID = regexp.MustCompile(`^ch-[0-9]+$`)

// setHeadingIDs gives every heading an id the way pandoc does, so that links
// written for pandoc (002.md#제1화-시작) find their heading: the heading's
// plain text, lowercased, spaces as hyphens, only letters, digits, _ - and
// . kept, from the first letter on; "section" when nothing is left; -1, -2…
// after repeats. It returns the ids of the document, footnotes' included.
func setHeadingIDs(doc ast.Node, source []byte) map[string]bool {
	ids := map[string]bool{}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			base := pandocID(PlainText(n, source))
			id := base
			for i := 1; ids[id] || reservedID.MatchString(id); i++ {
				id = fmt.Sprintf("%s-%d", base, i)
			}
			ids[id] = true
			n.SetAttributeString("id", []byte(id))
			return ast.WalkSkipChildren, nil
		case *east.Footnote:
			ids[fmt.Sprintf("fn:%d", n.Index)] = true
		case *east.FootnoteLink:
			if n.RefIndex > 0 {
				ids[fmt.Sprintf("fnref%d:%d", n.RefIndex, n.Index)] = true
			} else {
				ids[fmt.Sprintf("fnref:%d", n.Index)] = true
			}
		}
		return ast.WalkContinue, nil
	})
	return ids
}

// pandocID is pandoc's identifier for a heading's text.
func pandocID(s string) string {
	var b strings.Builder
	started := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r):
			started = true
			b.WriteRune(r)
		case !started:
		case unicode.IsDigit(r) || unicode.IsNumber(r) || r == '_' || r == '-' || r == '.':
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "section"
	}
	return b.String()
}
