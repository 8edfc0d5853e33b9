// Package manuscript reads a book from Markdown episodes: which files, in what
// order, with which titles, parts, metadata and images. It is the part that
// md2epub and md2pdf share; each renders the parsed episodes its own way.
// Whatever it finds by itself it reads only from inside the project and the
// folders the recipe allows (see readScope), never through a link that leads
// elsewhere.
package manuscript

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/unicode/norm"

	"github.com/novelfactory/runner/internal/parallel"
	"github.com/novelfactory/runner/internal/quote"
	"github.com/novelfactory/runner/internal/regfile"
)

// Options say where a book's episodes and metadata are.
type Options struct {
	// Src is a folder of .md files (searched at any depth) or a glob.
	Src string
	// Order, when set, lists the episode files (relative to Src's folder) that
	// make the book, in reading order.
	Order []string
	// BookFile is a book.yaml; when empty, book.yaml is looked for in Src's
	// folder and in its parent (the project folder).
	BookFile string
	// Meta holds the metadata given in the recipe; it wins over book.yaml.
	Meta Metadata
	// HardBreaks turns every line break inside a paragraph into a line break.
	HardBreaks bool
	// AllowRead lists folders whose files the manuscript may read besides the
	// project folder (Src's folder and its parent); see readScope.
	AllowRead []string
	// BrokenLinks is BrokenLinksWarn (when empty) or BrokenLinksError: what
	// becomes of a link that leads nowhere in the book (see resolveLinks).
	BrokenLinks string
}

// Book is a loaded manuscript.
type Book struct {
	// Meta is the book's metadata: recipe over book.yaml over defaults.
	Meta Metadata
	// Root is the folder the episodes were found in.
	Root string
	// BookFile is the book.yaml that was read, or "".
	BookFile string
	// Chapters are the episodes in reading order, drafts left out.
	Chapters []*Chapter
	// Images are the distinct images the episodes show, in first-use order.
	Images []*Image
	// Drafts counts the episodes left out because of draft: true.
	Drafts int
	// Warnings are what Load let pass but a reader would miss, each naming
	// the episode and line: links dropped to their text.
	Warnings []string

	images map[string]*Image // by resolved path
	refs   map[string]*Image // by the ref written into the episodes' AST
	scope  *readScope        // where the files the manuscript finds may be
}

// Chapter is one episode.
type Chapter struct {
	// Path is the episode's file; Rel the same path relative to Book.Root.
	Path, Rel string
	// ID names the chapter in the book: ch-001 for the first in reading
	// order. Renderers that write a document per chapter name it ID.xhtml;
	// links between episodes point there (see Book.Parse).
	ID string
	// Title is the chapter's title, the one heading its page shows and the
	// contents list: the front matter's title, else the heading the text
	// opens with, else its first heading, else the file name (see findTitle).
	Title string
	// Part groups consecutive chapters (front matter part:, else the sub-folder).
	Part string
	// Source is the file's text with its front matter blanked out, so that
	// positions in Doc are positions in the file.
	Source []byte
	// Doc is the parsed Markdown while a renderer holds it (see Book.Parse);
	// nil otherwise.
	Doc ast.Node
	// TitleHeading is the heading the text opens with when it stands for the
	// chapter's title, or nil (see findTitle). Renderers show Title in its
	// place — the heading's own markup when its text is Title — and never
	// show it a second time.
	TitleHeading *ast.Heading
	// Chars is the number of characters of text, spaces included.
	Chars int
	// Front is the episode's own front matter; it never becomes book metadata.
	Front map[string]any

	order      float64 // front matter order:, or the place among episodes without one
	ordered    bool    // order came from front matter
	frontTitle string  // front matter title:, which wins over any heading
	images     []imageRef
	links      []linkRef       // the links, until resolveLinks decides their fates
	linkFates  []linkFate      // one per link, in document order
	ids        map[string]bool // the ids of headings and notes, for #fragments
	// named and sum let Parse read the file again (Source is dropped
	// between Load and rendering) and check that it is what Load read.
	named bool
	sum   [sha256.Size]byte
}

// Load finds, reads and parses a book's episodes, resolves their images and
// merges the metadata. Every problem is an error naming the file and line.
func Load(ctx context.Context, opt Options) (*Book, error) {
	root, files, err := findEpisodes(opt)
	if err != nil {
		return nil, err
	}
	scope, err := newReadScope(root, opt.AllowRead)
	if err != nil {
		return nil, err
	}
	b := &Book{Root: root, images: map[string]*Image{}, refs: map[string]*Image{}, scope: scope}
	if err := b.loadMetadata(opt); err != nil {
		return nil, err
	}
	// Read and parse on every core; images are resolved after, in reading
	// order, so that they get the same names every time.
	chapters := make([]*Chapter, len(files))
	drafts := make([]bool, len(files))
	workers := runtime.GOMAXPROCS(0)
	parsers := make(chan goldmark.Markdown, workers)
	for range workers {
		parsers <- Markdown(opt.HardBreaks)
	}
	err = parallel.Do(ctx, len(files), workers, func(_ context.Context, i int) error {
		// A src that is one file was named by the recipe: it is read as given.
		ch, err := b.readChapter(files[i], files[i] == opt.Src)
		if err != nil || ch == nil {
			drafts[i] = err == nil
			return err
		}
		md := <-parsers
		ch.ids = parse(ch, md)
		parsers <- md
		ch.findTitle()
		if r, bad := badTextChar(ch.Title); bad {
			return fmt.Errorf("%s: the title %s holds %s (from a character reference), which a book cannot show; remove it", ch.Rel, quote.Text(ch.Title), charName(r))
		}
		ch.Chars = countChars(ch.Doc, ch.Source)
		ch.images = imageRefs(ch)
		ch.links = collectLinks(ch)
		ch.named, ch.sum = files[i] == opt.Src, sha256.Sum256(ch.Source)
		// Renderers read and parse again, one chapter at a time, so that
		// memory does not grow with the length of the book.
		ch.Release()
		chapters[i] = ch
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, ch := range chapters {
		if ch == nil {
			b.Drafts++
			continue
		}
		if err := b.resolveImages(ch); err != nil {
			return nil, err
		}
		b.Chapters = append(b.Chapters, ch)
	}
	if len(b.Chapters) == 0 {
		return nil, fmt.Errorf("all %d episodes in %s are drafts (draft: true); nothing to publish", b.Drafts, root)
	}
	if len(opt.Order) == 0 {
		// Episodes without an order: take their place in the natural
		// order of those without one, so "order: 1.5" falls between them.
		n := 0
		for _, ch := range b.Chapters {
			if !ch.ordered {
				n++
				ch.order = float64(n)
			}
		}
		sort.SliceStable(b.Chapters, func(i, j int) bool { return b.Chapters[i].order < b.Chapters[j].order })
	}
	for i, ch := range b.Chapters {
		ch.ID = fmt.Sprintf("ch-%03d", i+1)
	}
	draftPaths := map[string]bool{}
	for i, draft := range drafts {
		if draft {
			draftPaths[pathKey(files[i])] = true
		}
	}
	if err := b.resolveLinks(opt.BrokenLinks, draftPaths); err != nil {
		return nil, err
	}
	return b, nil
}

// parse parses a chapter's source into ch.Doc, gives its headings their ids
// and returns the ids the document has.
func parse(ch *Chapter, md goldmark.Markdown) map[string]bool {
	ch.Doc = md.Parser().Parse(text.NewReader(ch.Source))
	return setHeadingIDs(ch.Doc, ch.Source)
}

// Parse parses a chapter into ch.Doc with md (a value of Markdown), its
// images pointing into the book, its headings given ids, links to episodes
// pointing at their chapters (ID.xhtml#id) and links that lead nowhere in the
// book turned into their text; Release drops the tree again. Chapters may be
// parsed concurrently.
func (b *Book) Parse(ch *Chapter, md goldmark.Markdown) error {
	if ch.Source == nil {
		again, err := b.readChapter(ch.Path, ch.named)
		if err != nil {
			return err
		}
		if again == nil || sha256.Sum256(again.Source) != ch.sum {
			return fmt.Errorf("%s changed while the book was being made: run again", ch.Rel)
		}
		ch.Source = again.Source
	}
	parse(ch, md)
	ch.findTitle()
	if err := b.pointImages(ch); err != nil {
		return err
	}
	return b.pointLinks(ch)
}

// Release drops a chapter's parsed tree and its text; Parse reads the
// file again (and checks it did not change).
func (ch *Chapter) Release() { ch.Doc, ch.TitleHeading, ch.Source = nil, nil, nil }

// Image resolves a ref that Load wrote into an episode's AST.
func (b *Book) Image(ref string) (*Image, bool) {
	img, ok := b.refs[ref]
	return img, ok
}

// findEpisodes lists the episode files in natural order (or in opt.Order).
func findEpisodes(opt Options) (string, []string, error) {
	root := opt.Src
	var files []string
	if strings.ContainsAny(opt.Src, "*?[{") {
		base, pattern := doublestar.SplitPattern(filepath.ToSlash(opt.Src))
		root = filepath.FromSlash(base)
		matches, err := doublestar.Glob(os.DirFS(root), pattern, doublestar.WithFilesOnly())
		if err != nil {
			return "", nil, fmt.Errorf("episodes %s: %w", opt.Src, err)
		}
		for _, m := range matches {
			files = append(files, filepath.Join(root, filepath.FromSlash(m)))
		}
		if len(files) == 0 {
			return "", nil, fmt.Errorf("no episodes match %s", opt.Src)
		}
	} else {
		info, err := os.Stat(root)
		if err != nil {
			return "", nil, fmt.Errorf("episodes folder: %w", err)
		}
		if !info.IsDir() {
			return filepath.Dir(root), []string{root}, nil
		}
		// WalkDir does not enter a src that is a link to a folder (episodes
		// kept on another disk), so walk where it leads and name the files
		// under src.
		real, err := filepath.EvalSymlinks(root)
		if err != nil {
			return "", nil, fmt.Errorf("episodes folder: %w", err)
		}
		err = filepath.WalkDir(real, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != real && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".md") {
				rel, err := filepath.Rel(real, path)
				if err != nil {
					return err
				}
				files = append(files, filepath.Join(root, rel))
			}
			return nil
		})
		if err != nil {
			return "", nil, fmt.Errorf("list episodes in %s: %w", root, err)
		}
		if len(files) == 0 {
			return "", nil, fmt.Errorf("no Markdown episodes (*.md) in %s", root)
		}
	}
	if len(opt.Order) > 0 {
		ordered := make([]string, 0, len(opt.Order))
		for _, name := range opt.Order {
			path := filepath.Join(root, filepath.FromSlash(name))
			if _, err := os.Stat(path); err != nil {
				return "", nil, fmt.Errorf("order lists %s, which is not in %s", name, root)
			}
			ordered = append(ordered, path)
		}
		return root, ordered, nil
	}
	sort.Slice(files, func(i, j int) bool {
		ri, _ := filepath.Rel(root, files[i])
		rj, _ := filepath.Rel(root, files[j])
		// macOS writes names decomposed (NFD): 제2화.md as ᄌ ᅦ ᄋ ᅵ … sorts
		// after 제10화.md unless both are composed first.
		return NaturalLess(norm.NFC.String(filepath.ToSlash(ri)), norm.NFC.String(filepath.ToSlash(rj)))
	})
	return root, files, nil
}

// pathKey is how links find a file: its clean path in NFC, so that a link
// typed composed (제2화.md) finds a file named decomposed (macOS) and back.
func pathKey(p string) string { return norm.NFC.String(filepath.Clean(p)) }

// readChapter reads one episode and its front matter; nil means a draft. An
// episode the recipe did not name itself must resolve inside the read scope.
func (b *Book) readChapter(path string, named bool) (*Chapter, error) {
	read := path
	if !named {
		real, err := b.scope.check(path)
		if err != nil {
			return nil, fmt.Errorf("episode: %w", err)
		}
		read = real
	}
	data, err := regfile.ReadFile(read)
	if err != nil {
		return nil, fmt.Errorf("read episode: %w", err)
	}
	rel, _ := filepath.Rel(b.Root, path)
	rel = filepath.ToSlash(rel)
	if err := CheckUTF8(rel, data); err != nil {
		return nil, err
	}
	if err := checkTextChars(rel, data); err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	front, body, err := splitFrontMatter(rel, data)
	if err != nil {
		return nil, err
	}
	ch := &Chapter{Path: path, Rel: rel, Source: body, Front: front.Fields}
	if front.Draft {
		return nil, nil
	}
	ch.frontTitle = front.Title
	ch.Part = front.Part
	if ch.Part == "" {
		if dir := filepath.Dir(filepath.FromSlash(rel)); dir != "." {
			ch.Part = filepath.ToSlash(dir)
			if r, bad := badTextChar(ch.Part); bad {
				return nil, fmt.Errorf("%s: the folder name %s, the episode's part, holds %s, which a book cannot show; rename the folder (or give part: in the front matter)", rel, quote.Text(ch.Part), charName(r))
			}
		}
	}
	if front.Order != nil {
		ch.order, ch.ordered = *front.Order, true
	}
	return ch, nil
}

// CheckUTF8 rejects text that is not UTF-8 — an episode, book.yaml, a
// stylesheet — naming the file, line and column (in bytes), and recognises
// the usual culprit (CP949 / EUC-KR, what Korean Windows tools save).
func CheckUTF8(rel string, data []byte) error {
	if utf8.Valid(data) {
		return nil
	}
	off := 0
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	line := bytes.Count(data[:off], []byte("\n")) + 1
	col := off - bytes.LastIndexByte(data[:off], '\n')
	// Judge the encoding by the line at fault: a file may mix UTF-8 (front
	// matter typed later) and CP949 (the text pasted from a Windows editor).
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	end := bytes.IndexByte(data[off:], '\n')
	if end < 0 {
		end = len(data)
	} else {
		end += off
	}
	hint := "; save it as UTF-8"
	if out, err := korean.EUCKR.NewDecoder().Bytes(data[start:end]); err == nil && !bytes.ContainsRune(out, utf8.RuneError) {
		hint = "; it looks like CP949/EUC-KR — convert it with: iconv -f CP949 -t UTF-8"
	}
	return fmt.Errorf("%s:%d:%d: not UTF-8 text (byte 0x%02x)%s", rel, line, col, data[off], hint)
}

// badTextChar is the first character of s that a book cannot hold: a
// control character other than tab and line breaks, U+FFFE, U+FFFF, or a
// byte that is not UTF-8 (returned as utf8.RuneError).
func badTextChar(s string) (rune, bool) {
	for _, r := range s {
		if BadChar(r) || r == utf8.RuneError {
			return r, true
		}
	}
	return 0, false
}

// charName names a character a book cannot hold.
func charName(r rune) string {
	if r == utf8.RuneError {
		return "bytes that are not UTF-8"
	}
	return fmt.Sprintf("U+%04X", r)
}

// BadChar says whether a book cannot hold r: a control character other
// than tab and line breaks (C0 such as a bell or Word's vertical tab, DEL,
// C1 U+0080–U+009F), or a noncharacter (U+FDD0–U+FDEF, and the last two
// code points of every plane, U+FFFE, U+FFFF, U+1FFFE …). XML forbids the
// C0 controls and U+FFFE/U+FFFF and discourages the rest; no font draws
// any of them, so the EPUB and the PDF refuse them alike.
func BadChar(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\t' && r != '\n' && r != '\r'
	case r >= 0x7F && r <= 0x9F:
		return true
	case r >= 0xFDD0 && r <= 0xFDEF:
		return true
	}
	return r&0xFFFE == 0xFFFE && r <= 0x10FFFF
}

// BadCharMessage is what an error says of a character BadChar refuses,
// after the place: the same words for the text and for a character
// reference that makes one.
func BadCharMessage(r rune) string {
	kind := "a control character, often pasted from a word processor"
	if r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE {
		kind = "a noncharacter, not meant for text"
	}
	return fmt.Sprintf("character U+%04X cannot be in a book (%s); remove it", r, kind)
}

// checkTextChars rejects the characters BadChar names, naming where: in
// an EPUB the C0 controls make a document epubcheck cannot even parse
// (RSC-016), and a reader shows nothing of the chapter; no font draws any.
func checkTextChars(rel string, data []byte) error {
	if err := checkNesting(rel, data); err != nil {
		return err
	}
	line, col := 1, 1
	for _, r := range string(data) {
		if BadChar(r) {
			return fmt.Errorf("%s:%d:%d: %s", rel, line, col, BadCharMessage(r))
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return nil
}

// MaxNesting is the most quotes and list items one line may open:
// goldmark's time grows with the square of the markers on a line ("- "
// 50,000 times took 16.7 s and 189 MB), and no book nests so deep.
const MaxNesting = 1000

// checkNesting refuses, before it is parsed, an episode with a line that
// opens more than MaxNesting quotes and list items (>, -, *, +, 1., 1)),
// naming the line.
func checkNesting(rel string, data []byte) error {
	line := 1
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n')
		if end < 0 {
			end = len(data)
		}
		if depth := nestingOf(data[:end]); depth > MaxNesting {
			return fmt.Errorf("%s:%d: a line opens more than %d quotes and list items, deeper than a book may nest (the Markdown parser's time grows with the square of it); flatten it", rel, line, MaxNesting)
		}
		data = data[min(end+1, len(data)):]
		line++
	}
	return nil
}

// nestingOf counts the quote and list markers a line starts with, up to
// MaxNesting+1.
func nestingOf(l []byte) int {
	depth, i := 0, 0
	for depth <= MaxNesting {
		for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
			i++
		}
		switch {
		case i < len(l) && l[i] == '>':
			i++
		case i+1 < len(l) && (l[i] == '-' || l[i] == '*' || l[i] == '+') && (l[i+1] == ' ' || l[i+1] == '\t'):
			i += 2
		default:
			j := i
			for j < len(l) && j-i < 9 && l[j] >= '0' && l[j] <= '9' {
				j++
			}
			if j == i || j+1 >= len(l) || l[j] != '.' && l[j] != ')' || l[j+1] != ' ' && l[j+1] != '\t' {
				return depth
			}
			i = j + 2
		}
		depth++
	}
	return depth
}

// findTitle settles the chapter's title and the heading that stands for it.
// The rule, the same for every renderer and the contents: a front matter
// title wins; a heading the text opens with is then the title's heading —
// never shown a second time — when it is a first-level heading or says the
// same (spaces aside); any other opening heading stays a heading of the
// text. Without a front matter title, the opening heading is the title;
// else the first heading's text is (the page shows it above the text and
// again where it stands); else the file name.
func (ch *Chapter) findTitle() {
	ch.Title, ch.TitleHeading = ch.frontTitle, nil
	lead, _ := openingBlock(ch.Doc, ch.Source).(*ast.Heading)
	switch {
	case ch.Title != "":
		if lead != nil && (lead.Level == 1 || sameTitle(PlainText(lead, ch.Source), ch.Title)) {
			ch.TitleHeading = lead
		}
	case lead != nil:
		ch.Title, ch.TitleHeading = PlainText(lead, ch.Source), lead
	default:
		for n := ch.Doc.FirstChild(); n != nil; n = n.NextSibling() {
			if h, ok := n.(*ast.Heading); ok {
				ch.Title = PlainText(h, ch.Source)
				break
			}
		}
	}
	if ch.Title == "" {
		base := filepath.Base(ch.Path)
		ch.Title = strings.TrimSuffix(base, filepath.Ext(base))
	}
}

// openingBlock is the first block of doc a reader sees: HTML comments
// before it (<!-- 주석 --> above the heading) show nothing and are passed
// over, so the heading after them is still the one the text opens with.
func openingBlock(doc ast.Node, source []byte) ast.Node {
	n := doc.FirstChild()
	for ; n != nil; n = n.NextSibling() {
		h, ok := n.(*ast.HTMLBlock)
		if !ok || h.HTMLBlockType != ast.HTMLBlockType2 {
			break
		}
		var text []byte
		lines := h.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			text = append(text, seg.Value(source)...)
		}
		if h.HasClosure() {
			text = append(text, h.ClosureLine.Value(source)...)
		}
		if !bytes.HasSuffix(bytes.TrimSpace(text), []byte("-->")) {
			break // text after the comment, on its closing line, shows
		}
	}
	return n
}

// sameTitle says whether two titles differ at most in white space (where
// and how much of it), which authors of Korean titles vary: 제1화 시작 and
// 제 1 화  시작 are one title.
func sameTitle(a, b string) bool {
	return strings.Join(strings.Fields(a), "") == strings.Join(strings.Fields(b), "")
}

// PlainText is the text of a node and its descendants, without markup.
func PlainText(n ast.Node, source []byte) string {
	var sb strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			// As the renderers show it: \* as *, &amp; as &, &#x2014; as —.
			v := t.Segment.Value(source)
			if !t.IsRaw() {
				v = util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
			}
			sb.Write(v)
			if t.SoftLineBreak() || t.HardLineBreak() {
				sb.WriteByte(' ')
			}
		case *ast.String:
			sb.Write(t.Value)
		case *ast.CodeSpan:
			for c := t.FirstChild(); c != nil; c = c.NextSibling() {
				if s, ok := c.(*ast.Text); ok {
					sb.Write(s.Segment.Value(source))
				}
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(sb.String())
}

func countChars(doc ast.Node, source []byte) int {
	n := 0
	_ = ast.Walk(doc, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			n += utf8.RuneCount(t.Segment.Value(source))
		case *ast.String:
			n += utf8.RuneCount(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return n
}

// LineOf is the 1-based line of a byte offset in source.
func LineOf(source []byte, offset int) int {
	if offset > len(source) {
		offset = len(source)
	}
	return bytes.Count(source[:offset], []byte("\n")) + 1
}

// errNotFound marks an image that is in no place looked at.
var errNotFound = errors.New("not found")
