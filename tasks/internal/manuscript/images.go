package manuscript

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // GIF images in episodes
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/yuin/goldmark/ast"

	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/tasks/internal/imagesize"
)

// Image is one picture the book embeds.
type Image struct {
	// Path is the file on disk, every link in it resolved.
	Path string
	// Name is its path inside the book, e.g. images/img-001.png.
	Name string
	// MediaType is image/png, image/jpeg, image/gif or image/svg+xml.
	MediaType string
	// Width and Height are in pixels (0 for SVG).
	Width, Height int
}

// pointImages rewrites the images of a chapter parsed again to the places
// Load gave them; it only reads the book, so chapters can be parsed at once.
func (b *Book) pointImages(ch *Chapter) error {
	var firstErr error
	_ = ast.Walk(ch.Doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		node, ok := n.(*ast.Image)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		name := string(node.Destination)
		if unescaped, err := url.PathUnescape(name); err == nil {
			name = unescaped
		}
		path, err := b.locate(ch, name)
		img := b.images[path]
		if err != nil || img == nil {
			firstErr = fmt.Errorf("%s:%d: image %s changed while the book was being written", ch.Rel, nodeLine(node, ch.Source), node.Destination)
			return ast.WalkStop, nil
		}
		node.Destination = []byte(img.Ref())
		return ast.WalkContinue, nil
	})
	return firstErr
}

// Ref is how episodes point at the image after Load: relative to the text folder.
func (img *Image) Ref() string { return "../" + img.Name }

// imageRef is an image an episode shows, and the line it is shown on.
type imageRef struct {
	dest string
	line int
}

// imageRefs lists the images of a parsed chapter.
func imageRefs(ch *Chapter) []imageRef {
	var refs []imageRef
	_ = ast.Walk(ch.Doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if node, ok := n.(*ast.Image); ok && entering {
			refs = append(refs, imageRef{dest: string(node.Destination), line: nodeLine(node, ch.Source)})
		}
		return ast.WalkContinue, nil
	})
	return refs
}

// resolveImages finds and checks every image a chapter shows, in order, and
// gives each distinct one its name in the book.
func (b *Book) resolveImages(ch *Chapter) error {
	for _, ref := range ch.images {
		img, err := b.addImage(ch, ref.dest)
		if err != nil {
			return fmt.Errorf("%s:%d: image %s: %w", ch.Rel, ref.line, ref.dest, err)
		}
		b.refs[img.Ref()] = img
	}
	ch.images = nil
	return nil
}

func (b *Book) addImage(ch *Chapter, dest string) (*Image, error) {
	if u, err := url.Parse(dest); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		return nil, fmt.Errorf("only local images are embedded; download it next to the episode and link the file")
	}
	name := dest
	if unescaped, err := url.PathUnescape(dest); err == nil {
		name = unescaped
	}
	path, err := b.locate(ch, name)
	if err != nil {
		return nil, err
	}
	if img, ok := b.images[path]; ok {
		return img, nil
	}
	img, err := inspectImage(path)
	if err != nil {
		return nil, err
	}
	img.Name = fmt.Sprintf("images/img-%03d%s", len(b.Images)+1, extFor(img.MediaType))
	b.images[path] = img
	b.Images = append(b.Images, img)
	return img, nil
}

// locate looks for an image where authors mean it: beside the episode, then
// from the episodes folder and the project folder (for paths written from the
// project's root, also with a leading /), then as an absolute path. It
// returns the first one found inside the read scope, resolved; one found only
// outside it is refused, naming it.
func (b *Book) locate(ch *Chapter, name string) (string, error) {
	name = filepath.FromSlash(name)
	var candidates []string
	if filepath.IsAbs(name) {
		candidates = append(candidates, name)
		trimmed := strings.TrimLeft(name, string(filepath.Separator))
		candidates = append(candidates, filepath.Join(b.Root, trimmed), filepath.Join(filepath.Dir(b.Root), trimmed))
	} else {
		candidates = append(candidates, filepath.Join(filepath.Dir(ch.Path), name), filepath.Join(b.Root, name), filepath.Join(filepath.Dir(b.Root), name))
	}
	var refused error
	for _, c := range candidates {
		if !fileExists(c) {
			continue
		}
		real, err := b.scope.check(c)
		if err == nil {
			return real, nil
		}
		if refused == nil {
			refused = err
		}
	}
	if refused != nil {
		return "", refused
	}
	return "", fmt.Errorf("%w (looked in %s)", errNotFound, strings.Join(dedupe(candidates), ", "))
}

// maxImagePixels caps an image decoded whole: 50 megapixels is 200 MB as
// 8-bit RGBA, far beyond what e-readers show.
const maxImagePixels = 50_000_000

// inspectImage reads an image's type and size, checks an SVG, and decodes
// a PNG, JPEG or GIF whole to refuse a damaged one.
func inspectImage(path string) (*Image, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	head = head[:n]
	if looksLikeSVG(head) {
		if err := checkSVG(path); err != nil {
			return nil, err
		}
		return &Image{Path: path, MediaType: "image/svg+xml"}, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable PNG, JPEG, GIF or SVG image: %w", path, err)
	}
	// The header says little: a file cut short after it passes epubcheck
	// and shows as a broken picture. Decode it whole, once its size is
	// known to be one a reader can show.
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return nil, fmt.Errorf("%s is %d×%d pixels; a book's image may have at most %d megapixels — scale it down", path, cfg.Width, cfg.Height, maxImagePixels/1_000_000)
	}
	if err := imagesize.Check(cfg); err != nil {
		return nil, fmt.Errorf("%s is %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if _, _, err := image.Decode(f); err != nil {
		return nil, fmt.Errorf("%s is a damaged %s image (%v); export or download it again", path, strings.ToUpper(format), err)
	}
	return &Image{Path: path, MediaType: "image/" + format, Width: cfg.Width, Height: cfg.Height}, nil
}

// looksLikeSVG says whether a file's first bytes are an SVG image's: an
// XML declaration or <svg, after any comments and white space.
func looksLikeSVG(head []byte) bool {
	h := bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\ufeff")))
	for bytes.HasPrefix(h, []byte("<!--")) {
		end := bytes.Index(h, []byte("-->"))
		if end < 0 {
			break
		}
		h = bytes.TrimSpace(h[end+3:])
	}
	return (bytes.HasPrefix(h, []byte("<?xml")) || bytes.HasPrefix(h, []byte("<svg"))) && bytes.Contains(head, []byte("<svg"))
}

// InspectImage reads an image file's type and size (for covers).
func InspectImage(path string) (*Image, error) { return inspectImage(path) }

func extFor(mediaType string) string {
	switch mediaType {
	case "image/jpeg":
		return ".jpg"
	case "image/svg+xml":
		return ".svg"
	}
	return "." + strings.TrimPrefix(mediaType, "image/")
}

// ExtFor is the file extension for an image media type.
func ExtFor(mediaType string) string { return extFor(mediaType) }

// nodeLine is the line of the first text under n, or of its nearest block.
func nodeLine(n ast.Node, source []byte) int {
	for c := n; c != nil; c = c.Parent() {
		if t, ok := c.FirstChild().(*ast.Text); ok && c == n {
			return LineOf(source, t.Segment.Start)
		}
		if c.Type() == ast.TypeBlock && c.Lines().Len() > 0 {
			return LineOf(source, c.Lines().At(0).Start)
		}
	}
	return 1
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
