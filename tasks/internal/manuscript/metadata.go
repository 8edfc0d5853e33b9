package manuscript

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/novelfactory/runner/internal/quote"
	"github.com/novelfactory/runner/internal/regfile"
)

// Metadata describes the book as a whole. Episode front matter never feeds it.
type Metadata struct {
	Title       string   `yaml:"title"`
	Subtitle    string   `yaml:"subtitle"`
	Author      string   `yaml:"author"`
	Authors     []string `yaml:"authors"`
	Language    string   `yaml:"language"`
	Identifier  string   `yaml:"identifier"`
	Publisher   string   `yaml:"publisher"`
	Date        string   `yaml:"date"`
	Description string   `yaml:"description"`
	Series      string   `yaml:"series"`
	SeriesIndex float64  `yaml:"series_index"`
	Rights      string   `yaml:"rights"`
	Subjects    []string `yaml:"subjects"`
	// Cover and CSS are paths; after Load they are absolute.
	Cover string `yaml:"cover"`
	CSS   string `yaml:"css"`

	at map[string]string // book.yaml:LINE:COL of each field read from it
}

// AllAuthors is author followed by authors, without repeats.
func (m *Metadata) AllAuthors() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range append([]string{m.Author}, m.Authors...) {
		if a = strings.TrimSpace(a); a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// IsISBN says whether the identifier is an ISBN (10 or 13 digits, dashes allowed).
func (m *Metadata) IsISBN() bool {
	s := strings.TrimPrefix(strings.ToLower(m.Identifier), "urn:isbn:")
	s = strings.TrimPrefix(s, "isbn")
	s = strings.NewReplacer("-", "", " ", "", ":", "").Replace(s)
	if len(s) != 10 && len(s) != 13 {
		return false
	}
	for i, c := range s {
		if !(c >= '0' && c <= '9' || i == 9 && len(s) == 10 && (c == 'x')) {
			return false
		}
	}
	return true
}

// URN is the identifier as a URN: urn:isbn:…, the identifier as given when it
// is already a URN or URL, else urn:uuid: derived from title and authors, so
// that the same book keeps its id every time it is published.
func (m *Metadata) URN() string {
	switch {
	case m.Identifier != "" && m.IsISBN():
		s := strings.TrimPrefix(strings.ToLower(m.Identifier), "urn:isbn:")
		s = strings.TrimPrefix(s, "isbn")
		return "urn:isbn:" + strings.ToUpper(strings.NewReplacer("-", "", " ", "", ":", "").Replace(s))
	case m.Identifier != "":
		return m.Identifier
	}
	name := m.Title + "\x00" + strings.Join(m.AllAuthors(), "\x00")
	return "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte("runner-book:"+name)).String()
}

// loadMetadata merges recipe values over book.yaml, and fills defaults. A
// book.yaml found beside src, and the cover and css any book.yaml names, must
// be inside the read scope; what the recipe names is read as given.
func (b *Book) loadMetadata(opt Options) error {
	file, read := opt.BookFile, opt.BookFile
	if file == "" {
		for _, dir := range []string{b.Root, filepath.Dir(b.Root)} {
			if p := filepath.Join(dir, "book.yaml"); fileExists(p) {
				real, err := b.scope.check(p)
				if err != nil {
					return fmt.Errorf("book metadata: %w", err)
				}
				file, read = p, real
				break
			}
		}
	}
	if err := opt.Meta.checkText(); err != nil {
		return err
	}
	var fromFile Metadata
	if file != "" {
		data, err := regfile.ReadFile(read)
		if err != nil {
			return fmt.Errorf("read book metadata: %w", err)
		}
		if err := decodeBookYAML(b.displayName(file), data, &fromFile); err != nil {
			return err
		}
		fromFile.Cover = resolveFrom(filepath.Dir(file), fromFile.Cover)
		fromFile.CSS = resolveFrom(filepath.Dir(file), fromFile.CSS)
		b.BookFile = file
	}
	m := opt.Meta
	for _, p := range []*string{&m.Title, &m.Subtitle, &m.Author, &m.Language, &m.Identifier, &m.Publisher,
		&m.Date, &m.Description, &m.Series, &m.Rights, &m.Cover, &m.CSS} {
		*p = strings.TrimSpace(*p) // a blank recipe value is one not given
	}
	m.Authors, m.Subjects = nonBlank(m.Authors), nonBlank(m.Subjects)
	pick := func(dst *string, alt string) {
		if *dst == "" {
			*dst = alt
		}
	}
	pick(&m.Title, fromFile.Title)
	pick(&m.Subtitle, fromFile.Subtitle)
	pick(&m.Author, fromFile.Author)
	if len(m.Authors) == 0 {
		m.Authors = fromFile.Authors
	}
	pick(&m.Language, fromFile.Language)
	pick(&m.Identifier, fromFile.Identifier)
	pick(&m.Publisher, fromFile.Publisher)
	pick(&m.Date, fromFile.Date)
	pick(&m.Description, fromFile.Description)
	pick(&m.Series, fromFile.Series)
	if m.SeriesIndex == 0 {
		m.SeriesIndex = fromFile.SeriesIndex
	}
	pick(&m.Rights, fromFile.Rights)
	if len(m.Subjects) == 0 {
		m.Subjects = fromFile.Subjects
	}
	pick(&m.Cover, fromFile.Cover)
	pick(&m.CSS, fromFile.CSS)
	pick(&m.Language, "ko")
	if m.Title == "" {
		// The project folder: projects/Pilot/episodes → Pilot.
		dir := b.Root
		if strings.EqualFold(filepath.Base(dir), "episodes") {
			dir = filepath.Dir(dir)
		}
		m.Title = filepath.Base(dir)
	}
	if err := checkLanguage(m.Language); err != nil {
		return fmt.Errorf("language %w", err)
	}
	if m.Date != "" && !validDate(m.Date) {
		return fmt.Errorf("date %q: use YYYY, YYYY-MM or YYYY-MM-DD", m.Date)
	}
	for _, f := range []struct {
		field    string
		path     *string
		fromFile bool
	}{
		{"cover", &m.Cover, opt.Meta.Cover == ""},
		{"css", &m.CSS, opt.Meta.CSS == ""},
	} {
		if *f.path == "" {
			continue
		}
		if !fileExists(*f.path) {
			return fmt.Errorf("%s: no such file", *f.path)
		}
		where := f.field
		if f.fromFile {
			where = fromFile.at[f.field] + ": " + f.field
		}
		if f.fromFile {
			real, err := b.scope.check(*f.path)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", file, f.field, err)
			}
			*f.path = real
		}
		if f.field == "cover" {
			if _, err := inspectImage(*f.path); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
	}
	b.Meta = m
	return nil
}

// displayName is how messages name a file: relative to the project folder
// when it is inside it (book.yaml, episodes/book.yaml), else as given.
func (b *Book) displayName(file string) string {
	if rel, err := filepath.Rel(filepath.Dir(b.Root), file); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(rel)
	}
	return file
}

func validDate(s string) bool {
	for _, layout := range []string{"2006", "2006-01", "2006-01-02"} {
		if len(s) == len(layout) {
			if _, err := parseDate(layout, s); err == nil {
				return true
			}
		}
	}
	return false
}

func resolveFrom(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func fileExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir()
}

func parseDate(layout, s string) (time.Time, error) { return time.Parse(layout, s) }

// checkText refuses metadata given in the recipe that a book cannot show
// (control characters, bytes that are not UTF-8); book.yaml's values are
// checked as they are read, at their line.
func (m *Metadata) checkText() error {
	fields := []struct {
		name  string
		value string
	}{
		{"title", m.Title}, {"subtitle", m.Subtitle}, {"author", m.Author}, {"language", m.Language},
		{"identifier", m.Identifier}, {"publisher", m.Publisher}, {"date", m.Date}, {"description", m.Description},
		{"series", m.Series}, {"rights", m.Rights},
	}
	for _, a := range m.Authors {
		fields = append(fields, struct{ name, value string }{"authors", a})
	}
	for _, s := range m.Subjects {
		fields = append(fields, struct{ name, value string }{"subjects", s})
	}
	for _, f := range fields {
		if r, bad := badTextChar(f.value); bad {
			return fmt.Errorf("%s %s holds %s, which a book cannot show", f.name, quote.Text(f.value), charName(r))
		}
	}
	return nil
}

// nonBlank is list with its values trimmed and the blank ones left out.
func nonBlank(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
