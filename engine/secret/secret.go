package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/novelfactory/runner/internal/quote"
)

// Mask is what a secret is replaced with.
const Mask = "***"

// minEnvSecretLen keeps short values such as "1" or "true" of a variable
// named like a secret from masking every digit in every log.
const minEnvSecretLen = 6

// secretNameParts are the name fragments that mark an environment variable as
// holding a secret.
var secretNameParts = []string{"KEY", "SECRET", "TOKEN", "PASSWORD", "CREDENTIAL"}

// urlPassword matches the password part of scheme://user:password@host.
var urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)([^/\s@]+)@`)

// IsSecretName reports whether an environment variable of this name holds a
// secret by the naming rule (case-insensitive).
func IsSecretName(name string) bool {
	up := strings.ToUpper(name)
	for _, p := range secretNameParts {
		if strings.Contains(up, p) {
			return true
		}
	}
	return false
}

// Masker replaces known secret values. It is safe for concurrent use; values
// can be added while a run goes on (a task may learn a token).
type Masker struct {
	mu       sync.RWMutex
	values   map[string]bool
	list     []string // the values, longest first
	replacer *strings.Replacer
	longest  int
	// spelled matches each secret written with any mix of the escapes a
	// program may print its characters in (see spellings).
	spelled []*regexp.Regexp
	plain   map[string]bool // the secrets (and lines) spelled is built for
}

// New returns a masker that knows no secrets yet.
func New() *Masker {
	return &Masker{values: map[string]bool{}}
}

// minLinePart is the shortest line of a multi-line secret that is masked
// on its own: shorter ones ("}", "==") are everywhere.
const minLinePart = 4

// Add registers secret values. Empty values are ignored. Each value is also
// registered in the encoded forms it may be printed in (see encodings), so
// that it is masked inside a state file, a URL, a shell command or a Go
// error message too; and each line of a multi-line value (a
// private key) on its own, as GitHub Actions does, because output arrives
// line by line.
func (m *Masker) Add(values ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := false
	for _, v := range values {
		if strings.TrimSpace(v) == "" {
			continue
		}
		forms := []string{v}
		if strings.ContainsAny(v, "\r\n") {
			for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
				if line = strings.TrimSpace(line); len(line) >= minLinePart {
					forms = append(forms, line)
				}
			}
		}
		for _, f := range forms {
			for _, form := range encodings(f) {
				if !m.values[form] {
					m.values[form] = true
					changed = true
				}
			}
			if m.plain == nil {
				m.plain = map[string]bool{}
			}
			if re := spellings(f); re != nil && !m.plain[f] {
				m.plain[f] = true
				m.spelled = append(m.spelled, re)
				changed = true
			}
		}
	}
	if changed {
		m.rebuild()
	}
}

// AddEnviron registers the values of every secret-named variable of an
// environment given as KEY=VALUE pairs.
func (m *Masker) AddEnviron(environ []string) {
	var vals []string
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if ok && IsSecretName(name) && len(value) >= minEnvSecretLen {
			vals = append(vals, value)
		}
	}
	m.Add(vals...)
}

// encodings returns v and the forms a program may print it in: escaped
// inside a JSON string (once, or twice when JSON text is itself quoted in
// JSON; with and without HTML escapes; as JSON with \u escapes for all but
// ASCII), inside a Go-quoted string (%q, with and without \u escapes),
// inside a shell or YAML single-quoted string, percent-encoded (as a query,
// as a path, as JavaScript's encodeURIComponent does, with upper- and
// lower-case hex digits), and in base64 (standard and URL alphabets, padded
// or not).
func encodings(v string) []string {
	forms := []string{v}
	add := func(f string) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	inner := func(q string) string { return q[1 : len(q)-1] }
	jsonInner := func(s string, html bool) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		enc.Encode(s)
		return inner(strings.TrimSuffix(b.String(), "\n"))
	}
	j := jsonInner(v, true)
	add(j)
	add(jsonInner(v, false))
	add(jsonInner(j, true))
	add(jsonInner(jsonInner(v, false), false))
	add(asciiJSON(jsonInner(v, false)))
	add(inner(strconv.Quote(v)))
	add(inner(strconv.QuoteToASCII(v)))
	add(strings.ReplaceAll(v, "'", `'\''`))
	add(strings.ReplaceAll(v, "'", `'"'"'`))
	add(strings.ReplaceAll(v, "'", "''"))
	for _, esc := range []string{url.QueryEscape(v), url.PathEscape(v), componentEscape(v)} {
		add(esc)
		add(lowerHexEscapes(esc))
	}
	add(base64.StdEncoding.EncodeToString([]byte(v)))
	add(base64.RawStdEncoding.EncodeToString([]byte(v)))
	add(base64.URLEncoding.EncodeToString([]byte(v)))
	add(base64.RawURLEncoding.EncodeToString([]byte(v)))
	return forms
}

// escapeMarks are the characters an escaped spelling of a secret holds one
// of at least: only a text that holds one is matched against spellings.
const escapeMarks = `%\\'+&`

// spellings returns a pattern matching v written with any mix, character
// by character, of the escapes programs print characters in: percent
// encoding of each byte (upper- or lower-case hex, a space also as +),
// \uXXXX and \xXX escapes (once or twice escaped, surrogate pairs and
// \UXXXXXXXX beyond the BMP), the short escapes of JSON and Go (\" \\ \n
// \t \r, once or twice), the shell's '\” and '"'"' and YAML's ” for an
// apostrophe, and HTML's &#NN; &#xNN; &quot; &amp; &lt; &gt; &apos;. Each
// encoder leaves a different set of characters alone (Python's quote keeps
// /, encodeURI keeps ?:@&=+$, Go's URL path keeps @ and +): matching every
// mix covers them all. It returns nil when v has no character that any
// encoder escapes.
func spellings(v string) *regexp.Regexp {
	var b strings.Builder
	escaped := false
	for _, r := range v {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' || r == '~') {
			b.WriteString(regexp.QuoteMeta(string(r)))
			continue
		}
		escaped = true
		alts := []string{regexp.QuoteMeta(string(r))}
		var pct strings.Builder
		for _, c := range []byte(string(r)) {
			pct.WriteString("%" + hexDigits(fmt.Sprintf("%02X", c)))
		}
		alts = append(alts, pct.String())
		if r <= 0xFFFF {
			u := hexDigits(fmt.Sprintf("%04X", r))
			alts = append(alts, `\\{1,3}u`+u)
		} else {
			r1, r2 := utf16.EncodeRune(r)
			alts = append(alts,
				`\\{1,3}u`+hexDigits(fmt.Sprintf("%04X", r1))+`\\{1,3}u`+hexDigits(fmt.Sprintf("%04X", r2)),
				`\\{1,3}U`+hexDigits(fmt.Sprintf("%08X", r)))
		}
		if r < 0x100 {
			alts = append(alts, `\\{1,3}x`+hexDigits(fmt.Sprintf("%02X", r)))
		}
		alts = append(alts, fmt.Sprintf("&#0*%d;", r), "&#[xX]0*"+hexDigits(fmt.Sprintf("%X", r))+";")
		switch r {
		case ' ':
			alts = append(alts, `\+`)
		case '"':
			alts = append(alts, `\\{1,7}"`, "&quot;")
		case '\\':
			alts = append(alts, `\\{2,8}`)
		case '\n':
			alts = append(alts, `\\{1,3}n`)
		case '\t':
			alts = append(alts, `\\{1,3}t`)
		case '\r':
			alts = append(alts, `\\{1,3}r`)
		case '\'':
			alts = append(alts, `'\\''`, `'"'"'`, `''`, "&apos;", `\\{1,3}'`)
		case '&':
			alts = append(alts, "&amp;")
		case '<':
			alts = append(alts, "&lt;")
		case '>':
			alts = append(alts, "&gt;")
		}
		b.WriteString("(?:" + strings.Join(alts, "|") + ")")
	}
	if !escaped {
		return nil
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil
	}
	return re
}

// hexDigits turns hex digits into a pattern taking either case: 2F → 2[fF].
func hexDigits(h string) string {
	var b strings.Builder
	for _, c := range h {
		if c >= 'A' && c <= 'F' {
			b.WriteString("[" + string(c+'a'-'A') + string(c) + "]")
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// asciiJSON rewrites the non-ASCII characters of JSON string content as
// \uXXXX escapes (surrogate pairs beyond the BMP), as Python's json.dumps
// and many other encoders do by default.
func asciiJSON(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

// componentEscape percent-encodes every byte but the ones JavaScript's
// encodeURIComponent leaves alone.
func componentEscape(s string) string {
	const keep = "-_.!~*'()"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// lowerHexEscapes turns %2F into %2f.
func lowerHexEscapes(s string) string {
	return percentEscape.ReplaceAllStringFunc(s, strings.ToLower)
}

var percentEscape = regexp.MustCompile(`%[0-9A-F]{2}`)

func (m *Masker) rebuild() {
	vals := make([]string, 0, len(m.values))
	for v := range m.values {
		vals = append(vals, v)
	}
	// Longest first, so a secret that contains another is masked whole.
	sort.Slice(vals, func(i, j int) bool {
		if len(vals[i]) != len(vals[j]) {
			return len(vals[i]) > len(vals[j])
		}
		return vals[i] < vals[j]
	})
	pairs := make([]string, 0, 2*len(vals))
	m.longest = 0
	for _, v := range vals {
		pairs = append(pairs, v, Mask)
		if len(v) > m.longest {
			m.longest = len(v)
		}
	}
	m.list = vals
	m.replacer = strings.NewReplacer(pairs...)
}

// String masks every known secret and every URL password in s. Secrets
// that overlap in s ("abcdefgh" and "efghijklmnop" in "abcdefghijklmnop")
// are masked as one stretch: replacing one would leave the rest of the
// other in clear.
func (m *Masker) String(s string) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	r, list, spelled := m.replacer, m.list, m.spelled
	m.mu.RUnlock()
	if r != nil && r.Replace(s) != s { // a quick look: is any secret in s?
		s = maskSpans(s, list)
	}
	if len(spelled) > 0 && strings.ContainsAny(s, escapeMarks) {
		for _, re := range spelled {
			s = re.ReplaceAllLiteralString(s, Mask)
		}
	}
	if r != nil && strings.Contains(s, quote.CutNote) {
		s = m.cutEdges(s)
	}
	if strings.Contains(s, "://") {
		s = urlPassword.ReplaceAllString(s, "${1}"+Mask+"@")
	}
	return s
}

// maskSpans replaces every stretch of s that one or more secrets cover,
// overlapping or not, by one Mask.
func maskSpans(s string, secrets []string) string {
	covered := make([]bool, len(s))
	for _, v := range secrets {
		for from := 0; ; {
			i := strings.Index(s[from:], v)
			if i < 0 {
				break
			}
			for j := from + i; j < from+i+len(v); j++ {
				covered[j] = true
			}
			from += i + 1
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !covered[i] {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(Mask)
		for i < len(s) && covered[i] {
			i++
		}
	}
	return b.String()
}

// Edges masks what may be left of a secret at the edges of a text cut
// from a longer one — its start when start is set (a tail), its end when
// end is set (a head): the longest piece there, of minLinePart bytes or
// more, that a secret ends (or starts) with. s must be masked already.
func (m *Masker) Edges(s string, start, end bool) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	list := m.list
	m.mu.RUnlock()
	if start {
		best := 0
		for _, v := range list {
			for n := min(len(v)-1, len(s)); n >= minLinePart && n > best; n-- {
				if strings.HasPrefix(s, v[len(v)-n:]) {
					best = n
					break
				}
			}
		}
		if best > 0 {
			s = Mask + s[best:]
		}
	}
	if end {
		best := 0
		for _, v := range list {
			for n := min(len(v)-1, len(s)); n >= minLinePart && n > best; n-- {
				if strings.HasSuffix(s, v[:n]) {
					best = n
					break
				}
			}
		}
		if best > 0 {
			s = s[:len(s)-best] + Mask
		}
	}
	return s
}

// cutEdges masks what is left of a secret just before each place where a
// message cut a value short (quote.Text's "…" (N bytes in all)).
func (m *Masker) cutEdges(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, quote.Ellipsis)
		if i < 0 {
			break
		}
		after := s[i+len(quote.Ellipsis):]
		rest := strings.TrimPrefix(after, `"`)
		if !cutNoteRe.MatchString(rest) {
			b.WriteString(s[:i+len(quote.Ellipsis)])
			s = after
			continue
		}
		b.WriteString(m.Edges(s[:i], false, true))
		b.WriteString(quote.Ellipsis)
		s = after
	}
	b.WriteString(s)
	return b.String()
}

// cutNoteRe matches the note quote puts after a cut value.
var cutNoteRe = regexp.MustCompile(`^ \(\d+` + regexp.QuoteMeta(quote.CutNote))

// Bytes masks b like String.
func (m *Masker) Bytes(b []byte) []byte {
	return []byte(m.String(string(b)))
}

func (m *Masker) longestLen() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.longest
}

// maxPending bounds how much of an unterminated line a Writer holds back.
const maxPending = 64 << 10

// Writer returns a writer that masks what passes through it to w. It holds
// back partial lines so that a secret split across two writes is still
// masked; Close flushes the rest.
func (m *Masker) Writer(w io.Writer) io.WriteCloser {
	return &maskingWriter{m: m, w: w}
}

type maskingWriter struct {
	mu      sync.Mutex
	m       *Masker
	w       io.Writer
	pending []byte
}

func (mw *maskingWriter) Write(p []byte) (int, error) {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	mw.pending = append(mw.pending, p...)
	if i := bytes.LastIndexByte(mw.pending, '\n'); i >= 0 {
		if _, err := mw.w.Write(mw.m.Bytes(mw.pending[:i+1])); err != nil {
			return 0, err
		}
		mw.pending = append(mw.pending[:0], mw.pending[i+1:]...)
	}
	if len(mw.pending) > maxPending {
		// A very long line: emit all but a tail long enough to hold the
		// start of any secret that is still arriving.
		masked := mw.m.Bytes(mw.pending)
		keep := mw.m.longestLen()
		if keep > len(masked) {
			keep = len(masked)
		}
		if _, err := mw.w.Write(masked[:len(masked)-keep]); err != nil {
			return 0, err
		}
		mw.pending = append(mw.pending[:0], masked[len(masked)-keep:]...)
	}
	return len(p), nil
}

// Close writes out any held-back partial line.
func (mw *maskingWriter) Close() error {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	if len(mw.pending) == 0 {
		return nil
	}
	_, err := mw.w.Write(mw.m.Bytes(mw.pending))
	mw.pending = nil
	return err
}
