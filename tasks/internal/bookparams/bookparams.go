// Package bookparams holds the params that say which episodes make a book
// and what it is called, shared (inlined) by md2epub and md2pdf, and writes
// a book file atomically.
package bookparams

//go:generate go run github.com/novelfactory/runner/internal/gendoc -export -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/bytesize"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
)

// Params say which episodes make a book and what the book is called;
// md2epub and md2pdf share them (inlined beside each type's own params).
// Metadata given here wins over the project's book.yaml.
type Params struct {
	// Folder of Markdown episodes (searched at any depth, ordered naturally: 2.md before 10.md) or a glob.
	Src params.Path `yaml:"src" json:"src" required:"true"`
	// book.yaml with the book's metadata; looked for beside src and in its parent folder when empty.
	Book params.Path `yaml:"book" json:"book"`
	// Episode files (relative to src) that make the book, in reading order; natural order of every .md when empty.
	Order []string `yaml:"order" json:"order"`
	// Folders whose files may be read besides the project (src's folder and its parent): episodes, images, book.yaml and the cover and css it names must resolve inside one of these, symlinks followed, else they are refused.
	AllowRead []params.Path `yaml:"allow_read" json:"allow_read"`
	// Title of the book; book.yaml's, else the project folder's name.
	Title string `yaml:"title" json:"title"`
	// Subtitle of the book.
	Subtitle string `yaml:"subtitle" json:"subtitle"`
	// Author of the book.
	Author string `yaml:"author" json:"author"`
	// Further authors.
	Authors []string `yaml:"authors" json:"authors"`
	// Language of the text as a BCP 47 tag; ko when empty.
	Language string `yaml:"language" json:"language"`
	// ISBN or URN; a UUID derived from title and authors when empty, so the book keeps its id across editions.
	Identifier string `yaml:"identifier" json:"identifier"`
	// Publisher's name.
	Publisher string `yaml:"publisher" json:"publisher"`
	// Publication date: YYYY, YYYY-MM or YYYY-MM-DD.
	Date string `yaml:"date" json:"date"`
	// Blurb shown by stores and readers.
	Description string `yaml:"description" json:"description"`
	// Series the book belongs to.
	Series string `yaml:"series" json:"series"`
	// Position of the book in its series.
	SeriesIndex float64 `yaml:"series_index" json:"series_index"`
	// Copyright statement.
	Rights string `yaml:"rights" json:"rights"`
	// Subjects or genres.
	Subjects []string `yaml:"subjects" json:"subjects"`
	// Cover image (JPEG or PNG); a typographic cover is drawn from the title when empty.
	Cover params.Path `yaml:"cover" json:"cover"`
	// Treat every line break inside a paragraph as a line break (web-novel style), not as a space.
	HardLineBreaks bool `yaml:"hard_line_breaks" json:"hard_line_breaks"`
	// Fixed dates and timestamps, so that the same episodes give the same bytes.
	Reproducible bool `yaml:"reproducible" json:"reproducible"`
	// What becomes of a link that leads nowhere in the book — to a file that is no episode, a draft, a missing heading (#id), or a scheme other than http, https and mailto: warn keeps its text without the link and logs a warning naming the episode and line; error fails the task. Links to episodes (002.md#id) always point at their chapters.
	BrokenLinks string `yaml:"broken_links" json:"broken_links" default:"warn" enum:"warn,error"`
}

// Load reads the manuscript the params describe.
func (p *Params) Load(ctx context.Context, env *tasktype.Env) (*manuscript.Book, error) {
	allow := make([]string, len(p.AllowRead))
	for i, dir := range p.AllowRead {
		allow[i] = string(dir)
	}
	b, err := manuscript.Load(ctx, manuscript.Options{
		Src:         string(p.Src),
		Order:       p.Order,
		BookFile:    string(p.Book),
		AllowRead:   allow,
		HardBreaks:  p.HardLineBreaks,
		BrokenLinks: p.BrokenLinks,
		Meta: manuscript.Metadata{
			Title: p.Title, Subtitle: p.Subtitle, Author: p.Author, Authors: p.Authors, Language: p.Language,
			Identifier: p.Identifier, Publisher: p.Publisher, Date: p.Date, Description: p.Description,
			Series: p.Series, SeriesIndex: p.SeriesIndex, Rights: p.Rights, Subjects: p.Subjects, Cover: string(p.Cover),
		},
	})
	if err != nil {
		return nil, err
	}
	for _, w := range b.Warnings {
		if env.Logger != nil { // structured, into the task log
			env.Logger.Warn(w)
		} else if env.Log != nil {
			fmt.Fprintf(env.Log, "warning: %s\n", w)
		}
	}
	return b, nil
}

// WriteAtomically writes dest through write — into a temporary file that
// is renamed into place only when write succeeds — and returns its size.
func WriteAtomically(dest string, write func(io.Writer) error) (int64, error) {
	f, err := atomicfile.Create(dest, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Abort()
	counter := &bytesize.Counter{}
	if err := write(io.MultiWriter(f, counter)); err != nil {
		return 0, fmt.Errorf("write %s: %w", dest, err)
	}
	if err := f.Commit(); err != nil {
		return 0, err
	}
	return counter.N, nil
}

// Time is the time stamped into a book: now, or with reproducible a
// fixed one — SOURCE_DATE_EPOCH when set, else the book's date, else 2000-01-01.
func Time(reproducible bool, m manuscript.Metadata) time.Time {
	if !reproducible {
		return time.Now().UTC()
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	for _, layout := range []string{"2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, m.Date); err == nil {
			return t
		}
	}
	return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
}
