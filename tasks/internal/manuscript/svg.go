package manuscript

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/novelfactory/runner/internal/quote"
	"github.com/novelfactory/runner/internal/regfile"
)

// maxSVG caps an SVG image: it is read whole to be checked.
const maxSVG = 32 << 20

// unsafeSVGElements are elements an e-book's SVG image may not hold: epubcheck
// rejects scripts and foreignObject (HTML inside the image) in them, and
// readers would run or fetch what they hold. Names are compared without
// case or namespace prefix, so <SCRIPT> and <x:script> count.
var unsafeSVGElements = map[string]string{
	"script":        "a script",
	"handler":       "a script (SVG Tiny's handler)",
	"foreignobject": "HTML inside the image (foreignObject)",
	"iframe":        "an embedded page",
	"object":        "an embedded object",
	"embed":         "an embedded object",
}

// animates are the SVG elements that set another attribute over time
// (attributeName=), lower case.
var animates = map[string]bool{"set": true, "animate": true, "animatetransform": true, "animatemotion": true, "animatecolor": true}

// checkSVG refuses an SVG image that epubcheck would reject or a reader
// would run or fetch from: scripts, event handler attributes (onload=),
// foreignObject, references to anything outside the image (href, xlink:href,
// url(…) in any attribute, @import in styles, xml-stylesheet), CSS escapes
// (\72) that could hide them, animations that set a handler or a link, a DOCTYPE or entity
// declarations, and text that is not well-formed XML. The error names the file, line and
// what to remove; runner does not rewrite an author's picture.
func checkSVG(path string) error {
	f, err := regfile.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSVG+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxSVG {
		return fmt.Errorf("%s: an SVG image over %d MiB is not embedded", path, maxSVG>>20)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	refuse := func(what string) error {
		line, _ := d.InputPos()
		return fmt.Errorf("%s:%d: the SVG image holds %s, which e-books may not carry (epubcheck rejects it); remove it and publish again", path, line, what)
	}
	inStyle := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: not a well-formed SVG image: %v", path, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			local := strings.ToLower(t.Name.Local)
			if what, bad := unsafeSVGElements[local]; bad {
				return refuse(what + " (<" + quote.Cut(t.Name.Local) + ">)")
			}
			if local == "style" {
				inStyle++
			}
			if animates[local] {
				for _, a := range t.Attr {
					if strings.ToLower(a.Name.Local) != "attributename" {
						continue
					}
					target := strings.ToLower(strings.TrimSpace(a.Value))
					if _, after, ok := strings.Cut(target, ":"); ok {
						target = after // xlink:href
					}
					if strings.HasPrefix(target, "on") || target == "href" || target == "src" {
						return refuse("an animation that sets " + quote.Text(a.Value) + " (<" + quote.Cut(t.Name.Local) + " attributeName=…>): it can add a handler or a link to a script")
					}
				}
			}
			for _, a := range t.Attr {
				name := strings.ToLower(a.Name.Local)
				switch {
				case strings.HasPrefix(name, "on"):
					return refuse("an event handler (" + quote.Cut(a.Name.Local) + "=)")
				case name == "href" || name == "src" || a.Name.Space == "xml" && name == "base":
					if !strings.HasPrefix(strings.TrimSpace(a.Value), "#") {
						return refuse("a reference to " + quote.Text(a.Value) + " outside the image (" + a.Name.Local + "=); only #id references within it are kept")
					}
				default:
					// A style, or any attribute that takes a CSS value
					// (filter=, fill=, mask=, clip-path=): url(…) must name an
					// #id in the image, and no escape may hide what it says.
					if name == "style" || strings.Contains(a.Value, "(") {
						if strings.Contains(a.Value, "\\") {
							return refuse("a CSS escape (\\) in " + quote.Cut(a.Name.Local) + "=, which can hide url( or @import; write the characters themselves")
						}
					}
					if ref := externalCSSRef(a.Value); ref != "" {
						return refuse("a style that loads " + quote.Text(ref) + " (" + quote.Cut(a.Name.Local) + "=)")
					}
				}
			}
		case xml.EndElement:
			if strings.ToLower(t.Name.Local) == "style" && inStyle > 0 {
				inStyle--
			}
		case xml.CharData:
			if inStyle > 0 {
				if bytes.ContainsRune(t, '\\') {
					return refuse("a CSS escape (\\) in <style>, which can hide url( or @import; write the characters themselves")
				}
				if ref := externalCSSRef(string(t)); ref != "" {
					return refuse("a style that loads " + quote.Text(ref))
				}
			}
		case xml.ProcInst:
			if strings.EqualFold(t.Target, "xml-stylesheet") {
				return refuse("a stylesheet from outside the image (<?xml-stylesheet?>)")
			}
		case xml.Directive:
			if bytes.Contains(bytes.ToUpper(t), []byte("<!ENTITY")) {
				return refuse("entity declarations (<!ENTITY>)")
			}
			if bytes.HasPrefix(bytes.ToUpper(t), []byte("DOCTYPE")) {
				// Even SVG 1.1's own DOCTYPE: its DTD is external entities,
				// which EPUB 3 forbids (epubcheck HTM-003).
				return refuse("a DOCTYPE (EPUB 3 allows no external DTD; delete the <!DOCTYPE …> line)")
			}
		}
	}
}

// externalCSSRef is the first thing a piece of CSS loads from outside the
// image — @import, or url(…) not naming an #id — or "".
func externalCSSRef(css string) string {
	lower := strings.ToLower(css)
	if i := strings.Index(lower, "@import"); i >= 0 {
		return strings.TrimSpace(css[i:min(len(css), i+80)])
	}
	for rest := lower; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			return ""
		}
		arg := strings.TrimLeft(rest[i+4:], " \t\n\r'\"")
		if !strings.HasPrefix(arg, "#") {
			end := strings.IndexByte(arg, ')')
			if end < 0 {
				end = len(arg)
			}
			return "url(" + arg[:min(end, 80)] + ")"
		}
		rest = rest[i+4:]
	}
}
