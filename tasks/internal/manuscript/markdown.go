package manuscript

import (
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
)

// typography replaces goldmark's typographer output, which is named HTML
// entities (&ldquo;) that XHTML does not know, with the characters themselves.
var typography = map[extension.TypographicPunctuation]string{
	extension.LeftSingleQuote:  "‘",
	extension.RightSingleQuote: "’",
	extension.LeftDoubleQuote:  "“",
	extension.RightDoubleQuote: "”",
	extension.EnDash:           "–",
	extension.EmDash:           "—",
	extension.Ellipsis:         "…",
	extension.LeftAngleQuote:   "«",
	extension.RightAngleQuote:  "»",
	extension.Apostrophe:       "’",
}

// Markdown is the dialect of the episodes: CommonMark with GFM tables and
// strikethrough, footnotes and curly quotes, rendered as XHTML with raw HTML
// left out.
func Markdown(hardBreaks bool) goldmark.Markdown {
	opts := []renderer.Option{html.WithXHTML()}
	if hardBreaks {
		opts = append(opts, html.WithHardWraps())
	}
	return goldmark.New(
		goldmark.WithExtensions(
			// Cell alignment as style="text-align: …": XHTML 5 has no align attribute.
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignStyle)),
			extension.Strikethrough,
			extension.Footnote,
			extension.NewTypographer(extension.WithTypographicSubstitutions(typography)),
		),
		goldmark.WithRendererOptions(opts...),
	)
}
