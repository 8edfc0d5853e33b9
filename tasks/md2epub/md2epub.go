// Package md2epub is the built-in task type `md2epub`: turn a project's Markdown episodes into an EPUB 3 book that passes epubcheck.
// Registered with the others in package tasks.
package md2epub

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"io"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/bookparams"
	"github.com/novelfactory/runner/tasks/internal/bytesize"
	"github.com/novelfactory/runner/tasks/internal/epub"
)

// Params are the params of the md2epub task.
type Params struct {
	bookparams.Params `yaml:",inline" json:",inline"`
	// EPUB file to write. It is written to a temporary file and renamed into place.
	Dest params.Path `yaml:"dest" json:"dest" required:"true"`
	// Stylesheet added after runner's Korean default (or instead of it, with default_css: false).
	CSS params.Path `yaml:"css" json:"css"`
	// Include runner's default stylesheet (keep-all line breaking, line height, scene breaks).
	DefaultCSS bool `yaml:"default_css" json:"default_css" default:"true"`
	// Font file (.ttf, .otf, .woff, .woff2) embedded and used for the body text.
	Font params.Path `yaml:"font" json:"font"`
}

// Register adds the md2epub task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: params.JoinDocs(fieldDoc, bookparams.FieldDoc),
		Name:      "md2epub",
		Summary:   "Turn a project's Markdown episodes into an EPUB 3 book that passes epubcheck.",
		Doc: "Reads the episodes under `src` (natural order, or `order`), each with optional front matter (`title`, " +
			"`order`, `part`, `draft: true` to leave it out), and writes an EPUB 3 book with a cover (yours, or a " +
			"typographic one drawn from the title), a title page, a table of contents (nested by part) with landmarks, " +
			"an NCX for EPUB 2 readers, one file per episode and a stylesheet made for Korean text. Markdown is " +
			"CommonMark with GFM tables, strikethrough and footnotes; images are found relative to the episode (or the " +
			"project) and embedded once; a missing one is an error naming the episode and line, and so is an SVG " +
			"image that holds a script, an event handler, foreignObject, a DOCTYPE or a reference outside itself. " +
			"Links to other episodes (`002.md#id`, headings having pandoc's ids) point at their chapters; http, https " +
			"and mailto links stay; any other link keeps its text, with a warning (`broken_links: error` fails " +
			"instead). Only files inside the " +
			"project (src's folder and its parent) are read: an episode, image, found book.yaml, or cover or css it " +
			"names that resolves elsewhere — through a symlink, `../` or an absolute path — is refused, naming it, " +
			"unless `allow_read` lists its folder. Metadata comes from `with` and the project's `book.yaml`, never " +
			"from episodes. The book is written to a temporary file and renamed into place.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the EPUB file."},
			{Name: "bytes", Type: "integer", Doc: "Size of the EPUB file."},
			{Name: "chapters", Type: "integer", Doc: "Number of episodes in the book."},
			{Name: "chars", Type: "integer", Doc: "Characters of text in the episodes, spaces included."},
		},
		Examples: []tasktype.Example{
			{Title: "An EPUB of a project's episodes", YAML: `epub:
  uses: md2epub
  with:
    src: projects/Pilot/episodes
    dest: dist/Pilot.epub
    author: 김작가
    reproducible: true
`},
		},
		Plan: func(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			b, err := p.Load(ctx, env)
			if err != nil {
				return tasktype.Plan{}, err
			}
			chars := 0
			for _, ch := range b.Chapters {
				chars += ch.Chars
			}
			return tasktype.Plan{
				Summary: fmt.Sprintf("would write %q as an EPUB of %d episodes (%d characters, %d images) to %s", b.Meta.Title, len(b.Chapters), chars, len(b.Images), p.Dest),
				Outputs: tasktype.Outputs{"path": string(p.Dest), "chapters": len(b.Chapters), "chars": chars},
			}, nil
		},
		Run: runMd2epub,
	})
}

func runMd2epub(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	b, err := p.Load(ctx, env)
	if err != nil {
		return nil, err
	}
	opt := epub.Options{
		NoDefaultCSS: !p.DefaultCSS,
		Modified:     bookparams.Time(p.Reproducible, b.Meta),
		HardBreaks:   p.HardLineBreaks,
	}
	if p.CSS != "" {
		opt.CSS = string(p.CSS)
	} else {
		opt.CSS = b.Meta.CSS
	}
	if p.Font != "" {
		opt.Font = string(p.Font)
	}
	dest := string(p.Dest)
	var st epub.Stats
	size, err := bookparams.WriteAtomically(dest, func(w io.Writer) error {
		var err error
		st, err = epub.Write(ctx, w, b, opt)
		return err
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "wrote %q: %d episodes, %d characters, %d images → %s (%s)\n", b.Meta.Title, st.Chapters, st.Chars, st.Images, dest, bytesize.Format(size))
	return tasktype.Outputs{"path": dest, "bytes": size, "chapters": st.Chapters, "chars": st.Chars}, nil
}
