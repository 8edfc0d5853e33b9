package manuscript

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/internal/quote"
)

// maxMetaValue caps one book.yaml value: a blurb is a few kilobytes, and a
// 10 MB title would be copied into every document of the book.
const maxMetaValue = 64 << 10

// metaKind is the shape a book.yaml field takes.
type metaKind int

const (
	metaText   metaKind = iota // one value
	metaList                   // a list of values, or one value
	metaNumber                 // a number
	metaPeople                 // pandoc's creator: names, or {role, text} maps
	metaID                     // pandoc's identifier: a value, or one {scheme, text} map
	metaAuthor                 // one name (author), or a list of them (authors)
)

// metaField is a book.yaml field: runner's name, or a pandoc name that means
// the same (lang → language), and where its value goes.
type metaField struct {
	kind  metaKind
	as    string // runner's name, when the key is pandoc's
	text  func(m *Metadata) *string
	list  func(m *Metadata) *[]string
	float func(m *Metadata) *float64
}

var metaFields = map[string]metaField{
	"title":        {kind: metaText, text: func(m *Metadata) *string { return &m.Title }},
	"subtitle":     {kind: metaText, text: func(m *Metadata) *string { return &m.Subtitle }},
	"author":       {kind: metaAuthor, text: func(m *Metadata) *string { return &m.Author }, list: func(m *Metadata) *[]string { return &m.Authors }},
	"authors":      {kind: metaList, list: func(m *Metadata) *[]string { return &m.Authors }},
	"language":     {kind: metaText, text: func(m *Metadata) *string { return &m.Language }},
	"identifier":   {kind: metaID, text: func(m *Metadata) *string { return &m.Identifier }},
	"publisher":    {kind: metaText, text: func(m *Metadata) *string { return &m.Publisher }},
	"date":         {kind: metaText, text: func(m *Metadata) *string { return &m.Date }},
	"description":  {kind: metaText, text: func(m *Metadata) *string { return &m.Description }},
	"series":       {kind: metaText, text: func(m *Metadata) *string { return &m.Series }},
	"series_index": {kind: metaNumber, float: func(m *Metadata) *float64 { return &m.SeriesIndex }},
	"rights":       {kind: metaText, text: func(m *Metadata) *string { return &m.Rights }},
	"subjects":     {kind: metaList, list: func(m *Metadata) *[]string { return &m.Subjects }},
	"cover":        {kind: metaText, text: func(m *Metadata) *string { return &m.Cover }},
	"css":          {kind: metaText, text: func(m *Metadata) *string { return &m.CSS }},
	// pandoc's names for the same things
	"lang":                  {kind: metaText, as: "language", text: func(m *Metadata) *string { return &m.Language }},
	"cover-image":           {kind: metaText, as: "cover", text: func(m *Metadata) *string { return &m.Cover }},
	"creator":               {kind: metaPeople, as: "authors", list: func(m *Metadata) *[]string { return &m.Authors }},
	"subject":               {kind: metaList, as: "subjects", list: func(m *Metadata) *[]string { return &m.Subjects }},
	"stylesheet":            {kind: metaText, as: "css", text: func(m *Metadata) *string { return &m.CSS }},
	"belongs-to-collection": {kind: metaText, as: "series", text: func(m *Metadata) *string { return &m.Series }},
	"group-position":        {kind: metaNumber, as: "series_index", float: func(m *Metadata) *float64 { return &m.SeriesIndex }},
}

// pandocOnly names pandoc metadata runner has no place for, and what to do.
var pandocOnly = map[string]string{
	"contributor":                "runner lists authors only; put them under authors",
	"abstract":                   "use description",
	"keywords":                   "use subjects",
	"toc-title":                  "runner titles the contents in the book's language",
	"page-progression-direction": "runner books read left to right",
	"ibooks":                     "runner writes no Apple-specific metadata",
	"type":                       "runner writes books only",
	"format":                     "md2epub and md2pdf choose the format",
	"relation":                   "runner writes no relations",
	"coverage":                   "runner writes no coverage",
	"source":                     "runner writes no source",
	"accessModes":                "runner writes no accessibility metadata",
}

// decodeBookYAML reads book.yaml's text into m. name is how messages name
// the file; every error is at name:LINE:COL.
func decodeBookYAML(name string, data []byte, m *Metadata) error {
	if err := CheckUTF8(name, data); err != nil {
		return err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return yamlSyntaxError(name, data, err)
	}
	if len(root.Content) == 0 {
		return nil // empty
	}
	doc := root.Content[0]
	if doc.Kind == yaml.AliasNode && doc.Alias != nil {
		doc = doc.Alias
	}
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return nil
	}
	if doc.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d:%d: book.yaml must be a mapping (title: …), not a %s", name, doc.Line, doc.Column, kindName(doc))
	}
	var errs []error
	seen := map[string]*yaml.Node{} // by runner's name
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, val := doc.Content[i], doc.Content[i+1]
		at := func(n *yaml.Node) string { return fmt.Sprintf("%s:%d:%d", name, n.Line, n.Column) }
		if key.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("%s: a key must be a name (title, author, …)", at(key)))
			continue
		}
		f, ok := metaFields[key.Value]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: unknown field %s%s", at(key), quote.Text(key.Value), suggestField(key.Value)))
			continue
		}
		canon := key.Value
		if f.as != "" {
			canon = f.as
		}
		if first, dup := seen[key.Value]; dup {
			errs = append(errs, fmt.Errorf("%s: %s is given twice (first at line %d)", at(key), key.Value, first.Line))
			continue
		}
		if first, dup := seen[canon]; dup {
			errs = append(errs, fmt.Errorf("%s: %s means %s, already given at line %d", at(key), key.Value, canon, first.Line))
			continue
		}
		seen[key.Value], seen[canon] = key, key
		if val.Kind == yaml.AliasNode && val.Alias != nil {
			val = val.Alias
		}
		if m.at == nil {
			m.at = map[string]string{}
		}
		m.at[canon] = at(val)
		if err := f.decode(m, key.Value, val, at); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

func (f metaField) decode(m *Metadata, key string, val *yaml.Node, at func(*yaml.Node) string) error {
	// Errors name where the value is written: an alias's place, not its anchor's.
	text := func(n *yaml.Node) (string, error) {
		pos := n
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		if n.Kind != yaml.ScalarNode {
			return "", fmt.Errorf("%s: %s: expected text, got a %s", at(pos), key, kindName(n))
		}
		if n.Tag == "!!null" {
			return "", nil
		}
		if r, bad := badTextChar(n.Value); bad {
			return "", fmt.Errorf("%s: %s holds %s, which a book cannot show", at(pos), key, charName(r))
		}
		if len(n.Value) > maxMetaValue {
			return "", fmt.Errorf("%s: %s is %d bytes; a book.yaml value may have at most %d", at(pos), key, len(n.Value), maxMetaValue)
		}
		// Spaces around a value are no part of it, and a blank value is
		// one not given: an empty dc:title or dc:subject is invalid EPUB.
		return strings.TrimSpace(n.Value), nil
	}
	switch f.kind {
	case metaAuthor:
		if val.Kind != yaml.SequenceNode {
			s, err := text(val)
			if err != nil {
				return err
			}
			*f.text(m) = s
			return nil
		}
		return metaField{kind: metaList, list: f.list}.decode(m, key, val, at)
	case metaText:
		s, err := text(val)
		if err != nil {
			return err
		}
		if key == "title" && s == "" && val.Tag != "!!null" {
			return fmt.Errorf("%s: title is blank; give the book's title (or leave the line out to use the folder's name)", at(val))
		}
		if (key == "language" || key == "lang") && s != "" {
			if err := checkLanguage(s); err != nil {
				return fmt.Errorf("%s: %s %w", at(val), key, err)
			}
		}
		if key == "date" && s != "" && !validDate(s) {
			return fmt.Errorf("%s: date %s: use YYYY, YYYY-MM or YYYY-MM-DD", at(val), quote.Text(s))
		}
		*f.text(m) = s
	case metaNumber:
		s, err := text(val)
		if err != nil {
			return err
		}
		if s == "" {
			return nil
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%s: %s: expected a number, got %s", at(val), key, quote.Text(s))
		}
		*f.float(m) = n
	case metaList, metaPeople:
		items := []*yaml.Node{val}
		if val.Kind == yaml.SequenceNode {
			items = val.Content
		}
		for _, item := range items {
			if person := item; f.kind == metaPeople && (item.Kind == yaml.MappingNode || item.Kind == yaml.AliasNode && item.Alias != nil && item.Alias.Kind == yaml.MappingNode) {
				if person.Kind == yaml.AliasNode {
					person = person.Alias
				}
				name, role, err := pandocPerson(person, key, at)
				if err != nil {
					return err
				}
				if role != "" && role != "aut" {
					return fmt.Errorf("%s: %s: role %s — runner lists authors (aut) only; leave the others out", at(item), key, quote.Text(role))
				}
				item = name
			}
			s, err := text(item)
			if err != nil {
				return err
			}
			if s != "" {
				*f.list(m) = append(*f.list(m), s)
			}
		}
	case metaID:
		item := val
		if val.Kind == yaml.SequenceNode {
			if len(val.Content) != 1 {
				return fmt.Errorf("%s: %s: a book has one identifier; give one (an ISBN or URN), not %d", at(val), key, len(val.Content))
			}
			item = val.Content[0]
		}
		if item.Kind == yaml.MappingNode {
			name, _, err := pandocPerson(item, key, at)
			if err != nil {
				return err
			}
			item = name
		}
		s, err := text(item)
		if err != nil {
			return err
		}
		*f.text(m) = s
	}
	return nil
}

// checkLanguage refuses a language that is not a BCP 47 tag (dc:language
// must be one, and readers choose fonts and hyphenation by it). The error
// follows "language" and names valid tags; ko_KR, a locale's spelling, is
// answered with ko-KR.
func checkLanguage(s string) error {
	if strings.ContainsRune(s, '_') {
		if _, err := language.Parse(strings.ReplaceAll(s, "_", "-")); err == nil {
			return fmt.Errorf("%s is a locale, not a language tag; did you mean %s?", quote.Text(s), quote.Text(strings.ReplaceAll(s, "_", "-")))
		}
	} else if _, err := language.Parse(s); err == nil {
		return nil
	}
	return fmt.Errorf("%s is not a BCP 47 language tag (like ko, ko-KR or en-US)", quote.Text(s))
}

// pandocPerson reads pandoc's {text: …, role: …} (or {text, scheme}) map.
func pandocPerson(n *yaml.Node, key string, at func(*yaml.Node) string) (text *yaml.Node, role string, err error) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "text":
			text = v
		case "role":
			role = v.Value
		case "scheme", "file-as":
		default:
			return nil, "", fmt.Errorf("%s: %s: unknown field %s (text, role, scheme)", at(k), key, quote.Text(k.Value))
		}
	}
	if text == nil {
		return nil, "", fmt.Errorf("%s: %s: expected text: …", at(n), key)
	}
	return text, role, nil
}

// suggestField is a did-you-mean for an unknown key, or runner's name for
// pandoc metadata it has no place for, or the list of fields.
func suggestField(key string) string {
	if hint, ok := pandocOnly[key]; ok {
		return " (pandoc's; " + hint + ")"
	}
	lower := strings.ToLower(strings.ReplaceAll(key, "_", "-"))
	best, bestD := "", 3
	for name, f := range metaFields {
		d := editDistance(lower, strings.ReplaceAll(name, "_", "-"))
		if d < bestD || d == bestD && name < best {
			if f.as != "" {
				name = f.as
			}
			best, bestD = name, d
		}
	}
	if best != "" && (bestD <= 2 && len(key) > 3 || bestD <= 1) {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	var names []string
	for name, f := range metaFields {
		if f.as == "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return " (fields: " + strings.Join(names, ", ") + ")"
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 64
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxError puts yaml.v3's "yaml: line 3: …" at name:3:COL, COL
// being a tab's (YAML indents with spaces only) or the line's first
// character's.
func yamlSyntaxError(name string, data []byte, err error) error {
	msg := err.Error()
	m := yamlErrLine.FindStringSubmatch(msg)
	if m == nil {
		return fmt.Errorf("%s:1:1: %s", name, strings.TrimPrefix(msg, "yaml: "))
	}
	line, _ := strconv.Atoi(m[1])
	lines := strings.Split(string(data), "\n")
	col, hint := 1, ""
	for _, l := range []int{line, line + 1} { // yaml.v3 names the line before a tab at times
		if l >= 1 && l <= len(lines) {
			if i := strings.IndexByte(lines[l-1], '\t'); i >= 0 && strings.TrimLeft(lines[l-1][:i], " ") == "" {
				line, col, hint = l, i+1, " (a tab: YAML indents with spaces only)"
				break
			}
		}
	}
	if hint == "" && line >= 1 && line <= len(lines) {
		col = len(lines[line-1]) - len(strings.TrimLeft(lines[line-1], " ")) + 1
	}
	return fmt.Errorf("%s:%d:%d: %s%s", name, line, col, m[2], hint)
}
