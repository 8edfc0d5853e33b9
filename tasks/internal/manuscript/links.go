package manuscript

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	"golang.org/x/net/idna"

	"github.com/novelfactory/runner/internal/quote"
)

// BrokenLinks says what Load does with a link it cannot keep.
const (
	// BrokenLinksWarn keeps the link's text, drops the link and warns.
	BrokenLinksWarn = "warn"
	// BrokenLinksError fails the book, naming the episode, line and link.
	BrokenLinksError = "error"
)

// linkRef is a link an episode writes, and the line it is on.
type linkRef struct {
	dest string
	line int
}

// linkFate is what becomes of one link, in document order: kept as written
// (an absolute http, https or mailto URL), pointed at an episode of the book
// (target, with a fragment checked against its ids), or dropped, its text
// kept.
type linkFate struct {
	keep     bool
	rewrite  string // for a kept link, the address to write instead (punycode host)
	target   *Chapter
	fragment string
}

// linkNodes lists a document's links (Markdown links and autolinks) in order.
func linkNodes(doc ast.Node) []ast.Node {
	var out []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.(type) {
		case *ast.Link, *ast.AutoLink:
			out = append(out, n)
		}
		return ast.WalkContinue, nil
	})
	return out
}

// collectLinks records the links of a parsed chapter for resolveLinks.
func collectLinks(ch *Chapter) []linkRef {
	var refs []linkRef
	for _, n := range linkNodes(ch.Doc) {
		switch n := n.(type) {
		case *ast.Link:
			refs = append(refs, linkRef{dest: string(n.Destination), line: nodeLine(n, ch.Source)})
		case *ast.AutoLink:
			dest := string(n.URL(ch.Source))
			if n.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(dest), "mailto:") {
				dest = "mailto:" + dest
			}
			refs = append(refs, linkRef{dest: dest, line: nodeLine(n, ch.Source)})
		}
	}
	return refs
}

// resolveLinks decides the fate of every link of every chapter: links to
// episodes point at their chapters, absolute web and mail links stay, and
// any other link — to a project file, a draft, a missing file, an id that
// no heading or note has, a script — loses its target and keeps its text,
// with a warning (or, with BrokenLinksError, fails the book).
func (b *Book) resolveLinks(policy string, drafts map[string]bool) error {
	byPath := map[string]*Chapter{}
	for _, ch := range b.Chapters {
		byPath[pathKey(ch.Path)] = ch
	}
	for _, ch := range b.Chapters {
		ch.linkFates = make([]linkFate, len(ch.links))
		for i, ref := range ch.links {
			fate, why := b.linkFate(ch, ref.dest, byPath, drafts)
			if why != "" {
				msg := fmt.Sprintf("%s:%d: link %s %s", ch.Rel, ref.line, quote.Text(ref.dest), why)
				if policy == BrokenLinksError {
					return fmt.Errorf("%s (broken_links: warn keeps the link's text instead)", msg)
				}
				b.Warnings = append(b.Warnings, msg+"; its text is kept without the link")
			}
			ch.linkFates[i] = fate
		}
		ch.links = nil
	}
	for _, ch := range b.Chapters {
		ch.ids = nil // every fragment is checked: kept, they would grow with the book
	}
	return nil
}

// webHostProblem says why host (u.Host: a name or address, an optional
// port) is not one epubcheck and readers can use, or "" when it is: a DNS
// name of ASCII letters, digits and hyphens whose last label is not all
// digits, or an IPv4 address (not IPv6: see below). A name in another
// script (한국.kr) is refused: linkFate converts it to punycode first.
func webHostProblem(u *url.URL) string {
	const what = "is not a web address readers can open"
	host, port := u.Hostname(), u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n > 65535 {
			return what + " (its port is not a number up to 65535)"
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return what + " (an empty port)"
	}
	if strings.HasPrefix(u.Host, "[") {
		// The XHTML writer percent-encodes the brackets, and epubcheck
		// then cannot read the host (RSC-023).
		return what + " (an IPv6 address; link a host name instead)"
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil && !strings.Contains(host, ":") {
		return ""
	}
	name := strings.TrimSuffix(host, ".")
	if name == "" || len(name) > 253 {
		return what + " (no host name)"
	}
	for _, r := range name {
		if r >= 0x80 {
			return what + " (a host name of letters, digits, dots and hyphens)"
		}
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || strings.Trim(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return what + " (a host name of letters, digits, dots and hyphens)"
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return what + " (neither a host name nor an IPv4 address)"
	}
	return ""
}

// linkFate decides one link; why is empty when the link is kept or pointed
// at a chapter, and says what is wrong otherwise.
func (b *Book) linkFate(ch *Chapter, dest string, byPath map[string]*Chapter, drafts map[string]bool) (linkFate, string) {
	if strings.TrimSpace(dest) == "" {
		return linkFate{}, "has no target"
	}
	u, err := url.Parse(dest)
	if err != nil {
		return linkFate{}, "is not a valid address"
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "http" || scheme == "https":
		if u.Opaque != "" || u.User != nil {
			return linkFate{}, "is not a web address readers can open (a host name of letters, digits, dots and hyphens)"
		}
		rewrite := ""
		if ascii, err := idna.Lookup.ToASCII(u.Hostname()); err == nil && !isASCII(u.Hostname()) && !strings.HasPrefix(u.Host, "[") {
			// 한국.kr: epubcheck cannot read the host as written (RSC-023),
			// but readers open its punycode spelling, xn--3e0b707e.kr.
			if u.Port() != "" {
				ascii += ":" + u.Port()
			}
			u.Host = ascii
			rewrite = u.String()
		}
		if why := webHostProblem(u); why != "" {
			return linkFate{}, why
		}
		if strings.Contains(u.Fragment, "#") {
			return linkFate{}, "has two #s; a link has at most one fragment"
		}
		return linkFate{keep: true, rewrite: rewrite}, ""
	case scheme == "mailto":
		if u.Opaque == "" || strings.ContainsAny(u.Opaque, " <>\"") {
			return linkFate{}, "is not a mail address"
		}
		return linkFate{keep: true}, ""
	case scheme != "":
		return linkFate{}, "uses " + quote.Text(u.Scheme+":") + "; a book keeps only http, https and mailto links and links between its episodes"
	case u.Host != "" || u.User != nil:
		return linkFate{}, "is a network path (//host); write it with https:"
	}
	if u.Path == "" {
		if u.Fragment == "" {
			return linkFate{}, "has no target"
		}
		if !ch.ids[u.Fragment] {
			return linkFate{}, fmt.Sprintf("points at #%s, which no heading or note of %s has", quote.Cut(u.Fragment), ch.Rel)
		}
		return linkFate{target: ch, fragment: u.Fragment}, ""
	}
	var candidates []string
	if filepath.IsAbs(filepath.FromSlash(u.Path)) {
		trimmed := strings.TrimLeft(filepath.FromSlash(u.Path), string(filepath.Separator))
		candidates = []string{filepath.Join(b.Root, trimmed), filepath.Join(filepath.Dir(b.Root), trimmed)}
	} else {
		candidates = []string{filepath.Join(filepath.Dir(ch.Path), filepath.FromSlash(u.Path))}
	}
	for _, c := range candidates {
		target, ok := byPath[pathKey(c)]
		if !ok {
			continue
		}
		if u.Fragment != "" && !target.ids[u.Fragment] {
			return linkFate{}, fmt.Sprintf("points at #%s, which no heading or note of %s has", quote.Cut(u.Fragment), target.Rel)
		}
		return linkFate{target: target, fragment: u.Fragment}, ""
	}
	for _, c := range candidates {
		if drafts[pathKey(c)] {
			return linkFate{}, "points at a draft (draft: true), which the book leaves out"
		}
	}
	for _, c := range candidates {
		if info, err := os.Stat(c); err == nil && !info.IsDir() {
			return linkFate{}, "points at a file that is not an episode of the book; a book links only its own episodes"
		}
	}
	return linkFate{}, "points at no episode of the book (no such file)"
}

// pointLinks applies the fates Load decided to a chapter parsed again:
// links to episodes become links to their chapters' documents
// (ID.xhtml#fragment, or #fragment within the chapter), dropped links
// become their text.
func (b *Book) pointLinks(ch *Chapter) error {
	nodes := linkNodes(ch.Doc)
	if len(nodes) != len(ch.linkFates) {
		return fmt.Errorf("%s changed while the book was being written (%d links, then %d)", ch.Rel, len(ch.linkFates), len(nodes))
	}
	for i, n := range nodes {
		fate := ch.linkFates[i]
		switch {
		case fate.keep && fate.rewrite != "":
			switch l := n.(type) {
			case *ast.Link:
				l.Destination = []byte(fate.rewrite)
			case *ast.AutoLink:
				// The text stays as written; only the target is rewritten.
				link := ast.NewLink()
				link.Destination = []byte(fate.rewrite)
				link.AppendChild(link, ast.NewString(l.Label(ch.Source)))
				if parent := n.Parent(); parent != nil {
					parent.ReplaceChild(parent, n, link)
				}
			}
		case fate.keep:
		case fate.target != nil:
			dest := ""
			if fate.target != ch {
				dest = fate.target.ID + ".xhtml"
			}
			if fate.fragment != "" {
				dest += "#" + fate.fragment
			}
			if l, ok := n.(*ast.Link); ok {
				l.Destination = []byte(dest)
			}
		default:
			unwrapLink(n, ch.Source)
		}
	}
	return nil
}

// unwrapLink replaces a link with its text.
func unwrapLink(n ast.Node, source []byte) {
	parent := n.Parent()
	if parent == nil {
		return
	}
	if a, ok := n.(*ast.AutoLink); ok {
		parent.ReplaceChild(parent, n, ast.NewString(a.Label(source)))
		return
	}
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, n, c)
		c = next
	}
	parent.RemoveChild(parent, n)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
