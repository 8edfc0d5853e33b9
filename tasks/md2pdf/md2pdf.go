// Package md2pdf is the built-in task type `md2pdf`: typeset a project's Markdown episodes as a print-ready PDF book, in pure Go.
// Registered with the others in package tasks.
package md2pdf

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/bookparams"
	"github.com/novelfactory/runner/tasks/internal/bytesize"
	"github.com/novelfactory/runner/tasks/internal/pdfbook"
)

// Params are the params of the md2pdf task.
type Params struct {
	bookparams.Params `yaml:",inline" json:",inline"`
	// PDF file to write. It is written to a temporary file and renamed into place.
	Dest params.Path `yaml:"dest" json:"dest" required:"true"`
	// TrueType (.ttf) font for the text; NanumMyeongjo from fonts-nanum when empty. Collections (.ttc) and CFF .otf cannot be embedded.
	Font params.Path `yaml:"font" json:"font"`
	// TrueType font for bold text and titles; the font's Bold sibling (NanumMyeongjoBold.ttf) when empty.
	BoldFont params.Path `yaml:"bold_font" json:"bold_font"`
	// TrueType font for code; NanumGothicCoding when installed, else font.
	MonoFont params.Path `yaml:"mono_font" json:"mono_font"`
	// Page size: a5, b6 (ISO 125×176), b6-jis (128×182), 46 (4×6판, 127×188), shinguk (신국판, 152×225), a4, letter, or WIDTHxHEIGHT in millimetres.
	PageSize string `yaml:"page_size" json:"page_size" default:"a5"`
	// Margins in millimetres, CSS order: one value, "vertical horizontal", or "top right bottom left"; sized to the page when empty.
	Margins string `yaml:"margins" json:"margins"`
	// Body text size in points.
	FontSize float64 `yaml:"font_size" json:"font_size" default:"10"`
	// Line height as a multiple of the font size.
	LineHeight float64 `yaml:"line_height" json:"line_height" default:"1.75"`

	page pdfbook.Config // read by Check from page_size, margins, font_size and line_height
}

var pageSizes = map[string][2]float64{
	"a4": {210, 297}, "a5": {148, 210}, "a6": {105, 148}, "b5": {176, 250}, "b6": {125, 176},
	"b6-jis": {128, 182}, "46": {127, 188}, "shinguk": {152, 225}, "letter": {215.9, 279.4},
}

// pageConfig turns the params into page geometry.
func (p *Params) pageConfig() (pdfbook.Config, error) {
	size := strings.ToLower(strings.TrimSpace(p.PageSize))
	wh, ok := pageSizes[size]
	if !ok {
		w, h, found := strings.Cut(strings.TrimSuffix(size, "mm"), "x")
		fw, err1 := strconv.ParseFloat(strings.TrimSpace(w), 64)
		fh, err2 := strconv.ParseFloat(strings.TrimSpace(h), 64)
		if !found || err1 != nil || err2 != nil || fw < 50 || fh < 50 || fw > 1000 || fh > 1000 {
			return pdfbook.Config{}, params.At("page_size", fmt.Errorf("page_size %q: use a5, b6, b6-jis, 46, shinguk, a4, letter or WIDTHxHEIGHT in mm (e.g. 152x225)", p.PageSize))
		}
		wh = [2]float64{fw, fh}
	}
	cfg := pdfbook.Config{PageWidth: wh[0], PageHeight: wh[1], FontSize: p.FontSize, Leading: p.LineHeight}
	cfg.Top, cfg.Bottom = wh[1]*0.09, wh[1]*0.1
	cfg.Left, cfg.Right = wh[0]*0.12, wh[0]*0.12
	if p.Margins != "" {
		var v []float64
		for _, f := range strings.Fields(strings.ReplaceAll(p.Margins, "mm", "")) {
			n, err := strconv.ParseFloat(f, 64)
			if err != nil || n < 0 {
				return cfg, params.At("margins", fmt.Errorf("margins %q: give 1, 2 or 4 numbers of millimetres", p.Margins))
			}
			v = append(v, n)
		}
		switch len(v) {
		case 1:
			cfg.Top, cfg.Right, cfg.Bottom, cfg.Left = v[0], v[0], v[0], v[0]
		case 2:
			cfg.Top, cfg.Right, cfg.Bottom, cfg.Left = v[0], v[1], v[0], v[1]
		case 4:
			cfg.Top, cfg.Right, cfg.Bottom, cfg.Left = v[0], v[1], v[2], v[3]
		default:
			return cfg, params.At("margins", fmt.Errorf("margins %q: give 1, 2 or 4 numbers of millimetres", p.Margins))
		}
	}
	if cfg.PageWidth-cfg.Left-cfg.Right < 40 || cfg.PageHeight-cfg.Top-cfg.Bottom < 40 {
		return cfg, params.At("margins", fmt.Errorf("margins %q leave less than 40 mm of text area on a %gx%g mm page", p.Margins, wh[0], wh[1]))
	}
	if p.FontSize < 5 || p.FontSize > 30 {
		return cfg, params.At("font_size", fmt.Errorf("font_size %g: use 5 to 30 points", p.FontSize))
	}
	if p.LineHeight < 1 || p.LineHeight > 4 {
		return cfg, params.At("line_height", fmt.Errorf("line_height %g: use 1 to 4", p.LineHeight))
	}
	if err := cfg.Check(); err != nil {
		return cfg, fmt.Errorf("page_size %q, margins %q, font_size and line_height: %w", p.PageSize, p.Margins, err)
	}
	return cfg, nil
}

// Register adds the md2pdf task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: params.JoinDocs(fieldDoc, bookparams.FieldDoc),
		Name:      "md2pdf",
		Summary:   "Typeset a project's Markdown episodes as a print-ready PDF book, in pure Go.",
		Doc: "Reads the same episodes and metadata as md2epub and sets them on A5 (or another size) pages: a cover " +
			"(image or typographic), a table of contents with page numbers and links, each episode on a new page, a " +
			"running head and page numbers, headings, emphasis, quotes, lists, tables, footnotes, scene breaks, images, " +
			"a PDF outline and document metadata. Korean is set the way books are: words kept whole (keep-all), no " +
			"line starting with closing punctuation (kinsoku), justified, never past the margin. The font (a TrueType " +
			"file; NanumMyeongjo from Debian's fonts-nanum by default) is embedded as a subset; a character it lacks " +
			"is drawn by the first of DejaVu Sans, Droid Sans Fallback and Symbola that has it (emoji in one colour), " +
			"and one none has is an error naming the character and the line. Pages are written as they are set, " +
			"never kept in memory. The text stays extractable (pdftotext gives it back). Like " +
			"md2epub, it reads only files inside the project (src's folder and its parent) and the folders under " +
			"`allow_read`; an image or episode that resolves elsewhere is refused.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the PDF file."},
			{Name: "bytes", Type: "integer", Doc: "Size of the PDF file."},
			{Name: "pages", Type: "integer", Doc: "Number of pages."},
		},
		Examples: []tasktype.Example{
			{Title: "A print PDF on 4×6 pages", YAML: `pdf:
  uses: md2pdf
  with:
    src: projects/Pilot/episodes
    dest: dist/Pilot.pdf
    page_size: "46"
    reproducible: true
`},
		},
		Check: func(p *Params) error {
			var err error
			p.page, err = p.pageConfig()
			return err
		},
		Plan: func(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			b, err := p.Load(ctx, env)
			if err != nil {
				return tasktype.Plan{}, err
			}
			if _, err := pdfbook.FindFonts(string(p.Font), string(p.BoldFont), string(p.MonoFont)); err != nil {
				return tasktype.Plan{}, err
			}
			return tasktype.Plan{
				Summary: fmt.Sprintf("would typeset %q, %d episodes, as a %s PDF at %s", b.Meta.Title, len(b.Chapters), p.PageSize, p.Dest),
				Outputs: tasktype.Outputs{"path": string(p.Dest)},
			}, nil
		},
		Run: runMd2pdf,
	})
}

func runMd2pdf(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	cfg := p.page
	fonts, err := pdfbook.FindFonts(string(p.Font), string(p.BoldFont), string(p.MonoFont))
	if err != nil {
		return nil, err
	}
	b, err := p.Load(ctx, env)
	if err != nil {
		return nil, err
	}
	dest := string(p.Dest)
	info := pdfbook.Info{
		Title: b.Meta.Title, Author: strings.Join(b.Meta.AllAuthors(), ", "), Subject: b.Meta.Description,
		Keywords: strings.Join(b.Meta.Subjects, ", "), Language: b.Meta.Language, Date: bookparams.Time(p.Reproducible, b.Meta),
	}
	// Pages are set and written one at a time, straight into the file.
	pages := 0
	size, err := bookparams.WriteAtomically(dest, func(w io.Writer) error {
		var err error
		pages, err = pdfbook.Write(ctx, w, b, fonts, cfg, info)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "typeset %q: %d episodes on %d pages in %s → %s (%s)\n", b.Meta.Title, len(b.Chapters), pages, fonts.Regular.Name, dest, bytesize.Format(size))
	return tasktype.Outputs{"path": dest, "bytes": size, "pages": pages}, nil
}
