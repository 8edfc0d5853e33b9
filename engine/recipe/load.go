package recipe

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/quote"
	"github.com/novelfactory/runner/internal/regfile"
)

// Options are the inputs of Load besides the recipe file.
type Options struct {
	// Registry holds the task types; the built-in registry when nil.
	Registry *tasktype.Registry
	// VarFiles are YAML maps of var values, applied in order over the recipe's vars.
	VarFiles []string
	// Sets are "name=value" overrides, applied in order after VarFiles.
	Sets []string
	// Workdir, when set, replaces the recipe's directory as the base of relative paths.
	Workdir string
	// IncludeDirs are folders, besides the recipe's own folder tree, from
	// which include: may read recipe files (--include-dir).
	IncludeDirs []string
}

// Load reads, checks and compiles the recipe at path. On any problem it
// returns a diag.List with every problem found.
func Load(path string, opt Options) (*Recipe, error) {
	if opt.Registry == nil {
		opt.Registry = tasktype.Builtin()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", path, err)
	}
	l := &loader{reg: opt.Registry, stack: map[string]bool{}, digest: sha256.New(), exprs: eval.NewCompiler(), secretPos: map[string]Pos{}}
	for _, d := range append([]string{filepath.Dir(abs)}, opt.IncludeDirs...) {
		real, err := filepath.Abs(d)
		if err == nil {
			real, err = filepath.EvalSymlinks(real)
		}
		if err != nil {
			return nil, fmt.Errorf("resolve include folder %s: %w", d, err)
		}
		l.includeDirs = append(l.includeDirs, real)
	}
	r := &Recipe{Path: path, Dir: filepath.Dir(abs)}
	if !l.loadFile(r, path, abs, true) {
		l.diags.Sort()
		return nil, l.diags
	}
	if opt.Workdir != "" {
		wd, err := filepath.Abs(opt.Workdir)
		if err != nil {
			return nil, fmt.Errorf("resolve --workdir %s: %w", opt.Workdir, err)
		}
		// Else every task fails to start, blaming its command
		// ("fork/exec /usr/bin/sh: no such file or directory").
		if fi, err := os.Stat(wd); err != nil {
			l.diags.Add("", 0, 0, "--workdir %s: no such folder", opt.Workdir)
			return nil, l.diags
		} else if !fi.IsDir() {
			l.diags.Add("", 0, 0, "--workdir %s: not a folder", opt.Workdir)
			return nil, l.diags
		}
		r.Dir = wd
		for _, t := range r.Tasks {
			t.Dir = wd
		}
	}
	for _, f := range opt.VarFiles {
		l.applyVarFile(r, f)
	}
	for _, s := range opt.Sets {
		l.applySet(r, s)
	}
	l.validate(r)
	if len(l.diags) > 0 {
		l.diags.Sort()
		return nil, l.diags
	}
	r.Digest = hex.EncodeToString(l.digest.Sum(nil))
	return r, nil
}

type loader struct {
	reg    *tasktype.Registry
	diags  diag.List
	stack  map[string]bool // files being loaded, to catch include cycles
	digest hash.Hash
	exprs  *eval.Compiler
	// exprPos remembers where each compiled expression was written.
	exprPos map[*eval.Expr]Pos
	// includeDirs are the folders (symlinks resolved) that include: may
	// read from: the recipe's own, then those of --include-dir.
	includeDirs []string
	// secretPos remembers where each name under secrets: was written.
	secretPos map[string]Pos
}

func (l *loader) at(file string, n *yaml.Node, format string, args ...any) {
	l.diags.Add(file, n.Line, n.Column, format, args...)
}

// MaxFileSize is the largest recipe file runner reads.
const MaxFileSize = 8 << 20

// loadFile parses one file into r. Tasks and vars of includes come first, so
// that the including file's vars win and file order stays readable.
func (l *loader) loadFile(r *Recipe, display, abs string, root bool) bool {
	if info, err := os.Stat(abs); err == nil && info.Size() > MaxFileSize {
		// Parsing is about ten times the file in memory: a runaway
		// generator's 50 MB file would take a long-running server's 600 MB.
		l.diags.Add(display, 0, 0, "the recipe is %.1f MiB; runner reads recipes of up to %d MiB (a recipe of 10,000 tasks is about 1 MiB)",
			float64(info.Size())/(1<<20), MaxFileSize>>20)
		return false
	}
	data, err := regfile.ReadFile(abs)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		l.diags.Add(display, 0, 0, "cannot read recipe: %v", err)
		return false
	}
	l.digest.Write(data)
	doc, ok := l.parseYAML(display, data)
	if !ok {
		return false
	}
	if !looksLikeRecipe(doc) {
		// Its content is not quoted: a mistaken include or argument may be
		// a password file or a .env.
		l.diags.Add(display, 0, 0, "not a runner recipe: a recipe is a YAML map with version, vars, env, include or tasks (the file's content is not shown)")
		return false
	}
	l.stack[abs] = true
	defer delete(l.stack, abs)

	var spec fileSpec
	errs := grammar.DecodeNode(doc, &spec, filepath.Dir(abs))
	l.report(display, doc, errs, root)
	get := func(key string) *yaml.Node { return value(doc, key) }
	if root {
		r.Name = strings.TrimSuffix(filepath.Base(display), filepath.Ext(display))
		if spec.Name != "" {
			r.Name = spec.Name
		}
		r.Description = spec.Description
		r.Location = time.Local
		if n := get("timezone"); n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
			r.Location = l.timezone(display, n, "timezone")
		}
	} else if n := get("timezone"); n != nil {
		l.at(display, n, "timezone belongs in the main recipe, not in an included file: a run has one clock")
	}
	if n := get("include"); n != nil && n.Kind == yaml.SequenceNode {
		l.includes(r, display, abs, n)
	}
	if n := get("vars"); n != nil && n.Kind == yaml.MappingNode {
		l.vars(r, display, n)
	}
	if n := get("secrets"); n != nil && n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode && c.Tag != "!!null" && c.Value != "" {
				r.Secrets = append(r.Secrets, c.Value)
				l.secretPos[c.Value] = Pos{display, c.Line, c.Column}
			}
		}
	}
	if n := get("env"); n != nil && n.Kind == yaml.MappingNode {
		l.env(r, display, n)
	}
	if n := get("tasks"); n != nil && n.Kind == yaml.MappingNode {
		l.tasks(r, display, filepath.Dir(abs), n, spec.Tasks)
	}
	if root {
		l.schedule(r, display, doc, spec)
	} else {
		for _, key := range scheduleKeys {
			if n := get(key); n != nil {
				l.at(display, n, "%s belongs in the main recipe, not in an included file: a recipe has one schedule", key)
			}
		}
	}
	return true
}

// report adds the grammar's problems with a file as diagnostics. A task's
// are named after it (task "a": retry.delay: …). An included file needs
// neither version nor tasks.
func (l *loader) report(file string, doc *yaml.Node, errs params.Errors, root bool) {
	for _, e := range errs {
		var missing *params.MissingError
		var enum *params.EnumError
		var dup *params.DuplicateError
		switch {
		case !root && len(e.Path) == 0 && errors.As(e.Err, &missing):
			continue
		case len(e.Path) == 3 && e.Path[0] == "tasks" && e.Path[2] == "with" && errors.As(e.Err, &dup):
			continue // a task's params are its type's to check, and it says so
		case len(e.Path) == 1 && e.Path[0] == "version" && errors.As(e.Err, &enum):
			where := ""
			if !root {
				where = " in included file"
			}
			l.at(file, params.Locate(doc, e), "unsupported version %s%s: this runner reads version 1", quote.Text(enum.Value), where)
			continue
		}
		subject, rest := "", e.Path
		if len(rest) == 0 {
			subject = "recipe"
		}
		if len(rest) >= 2 && rest[0] == "tasks" {
			subject, rest = fmt.Sprintf("task %q", rest[1]), rest[2:]
		}
		l.at(file, params.Locate(doc, e), "%s", (&params.FieldError{Path: rest, Err: e.Err}).Message(subject))
	}
}

// value returns the value of key in the map n, or nil.
func value(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// timezone reads a timezone key (what names it): an IANA name
// (Asia/Seoul, UTC).
func (l *loader) timezone(file string, n *yaml.Node, what string) *time.Location {
	name := n.Value
	if name == "" {
		l.at(file, n, "%s is empty: give an IANA name such as Asia/Seoul or UTC, or leave the key out for the machine's zone", what)
		return time.Local
	}
	if !canonicalZone(name) {
		l.at(file, n, "%s %s: give an IANA zone name such as Asia/Seoul or UTC", what, quote.Text(name))
		return time.Local
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		l.at(file, n, "%s %s: no such zone%s; give an IANA name such as Asia/Seoul or UTC", what, quote.Text(name), diag.DidYouMean(name, commonZones))
		return time.Local
	}
	return loc
}

// canonicalZone says whether name is written as the zone database names
// its zones: "Asia//Seoul", "./Asia/Seoul", "posix/Asia/Seoul" and the
// database's own files (posixrules, Factory, localtime) load, but name a
// zone twice or not at all, and a schedule written with them would be read
// differently by the next tool.
func canonicalZone(name string) bool {
	if name == "Local" || strings.HasPrefix(name, "/") || path.Clean(name) != name ||
		strings.HasPrefix(name, "posix/") || strings.HasPrefix(name, "right/") {
		return false
	}
	switch name {
	case "posixrules", "Factory", "localtime", "leapseconds", "leap-seconds.list", "tzdata.zi", "zone.tab", "zone1970.tab", "iso3166.tab", "zonenow.tab", "SECURITY", "+VERSION":
		return false
	}
	return true
}

// commonZones are offered when a timezone is misspelt.
var commonZones = []string{"Asia/Seoul", "Asia/Tokyo", "Asia/Shanghai", "UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles"}

// looksLikeRecipe says whether doc is a map with at least one of a
// recipe's keys at the top.
func looksLikeRecipe(doc *yaml.Node) bool {
	if doc.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if grammar.Field(doc.Content[i].Value) != nil {
			return true
		}
	}
	return false
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses data, turning YAML syntax errors into positioned
// diagnostics. A byte that is not UTF-8 and tabs in indentation get their
// own messages: YAML's are cryptic or carry no line.
func (l *loader) parseYAML(display string, data []byte) (*yaml.Node, bool) {
	if line, col, b, ok := firstInvalidUTF8(data); !ok {
		l.diags.Add(display, line, col, "byte 0x%02x is not UTF-8: save the file as UTF-8 (a recipe is YAML, which is Unicode text)", b)
		return nil, false
	}
	lines := bytes.Split(data, []byte("\n"))
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		err = nil // an empty file: reported below
	}
	if err == nil {
		// yaml.Unmarshal reads the first document and ignores the rest; a
		// recipe pasted after another ("---") would be silently dropped.
		var next yaml.Node
		if nerr := dec.Decode(&next); nerr == nil && !emptyDocument(&next) {
			l.diags.Add(display, max(next.Line, 1), 1, "a second YAML document starts here (---): a recipe is one document, and this one would be ignored")
			return nil, false
		} else if !errors.Is(nerr, io.EOF) {
			err = nerr
		}
	}
	if err != nil {
		// A tab in indentation is the likeliest cause. Tabs inside a block
		// scalar (a heredoc's <<-) are text and parse; they are not errors.
		bad := false
		for i, line := range lines {
			indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
			if j := bytes.IndexByte(indent, '\t'); j >= 0 && len(bytes.TrimSpace(line)) > 0 {
				l.diags.Add(display, i+1, j+1, "tab character in indentation: YAML indents with spaces only")
				bad = true
			}
		}
		if bad {
			return nil, false
		}
		msg := err.Error()
		line, col := 0, 0
		for _, m := range strings.Split(msg, "\n") {
			if sm := yamlLineRe.FindStringSubmatch(strings.TrimSpace(m)); sm != nil {
				line, _ = strconv.Atoi(sm[1])
				msg = sm[2]
				break
			}
		}
		// yaml.v3 numbers a parser's errors ("did not find expected …")
		// from 0 and a scanner's from 1, and leaves out a line 0: make
		// them all 1-based, and keep them on a line that has text.
		if strings.HasPrefix(strings.TrimPrefix(msg, "yaml: "), "did not find expected") || line == 0 {
			line++
		}
		for line > 1 && (line > len(lines) || len(bytes.TrimSpace(lines[line-1])) == 0) {
			line--
		}
		if line > 0 && line <= len(lines) {
			text := lines[line-1]
			col = len(text) - len(bytes.TrimLeft(text, " ")) + 1
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		if strings.Contains(msg, "control characters are not allowed") {
			if cl, cc, c, found := firstControl(data); found {
				line, col = cl, cc
				msg = fmt.Sprintf("control character U+%04X is not allowed: write it as an escape (\"\\u%04X\") in a double-quoted string, or remove it", c, c)
			}
		}
		if m := unknownAnchorRe.FindStringSubmatch(msg); m != nil {
			if at := bytes.Index(data, []byte("*"+m[1])); at >= 0 {
				line, col = lineCol(data, at)
			}
			msg += ": define it with &" + m[1] + " before the *" + m[1] + " that uses it"
		}
		if strings.Contains(msg, "mapping values are not allowed") {
			msg += " (a value that contains \": \" must be quoted, or the line is indented wrongly)"
		}
		l.diags.Add(display, line, col, "invalid YAML: %s", msg)
		return nil, false
	}
	if len(doc.Content) == 0 {
		l.diags.Add(display, 1, 1, "the recipe is empty: it needs at least `version: 1` and `tasks:`")
		return nil, false
	}
	c := &expansion{seen: map[*yaml.Node]size{}}
	if z := c.count(doc.Content[0]); z.over() {
		what := fmt.Sprintf("%d values", maxExpandedNodes)
		if z.nodes <= maxExpandedNodes {
			what = fmt.Sprintf("%d MiB of text", maxExpandedBytes>>20)
		}
		at := c.culprit
		if at == nil { // no alias: a file of over a million values
			l.diags.Add(display, 1, 1, "the recipe holds over %s: too much for a recipe", what)
			return nil, false
		}
		l.diags.Add(display, at.Line, at.Column, "the YAML expands to over %s through its aliases, and this *%s (a copy of %s) goes over: a YAML alias bomb? Write the values out",
			what, at.Value, anchorName(at))
		return nil, false
	}
	// Merge keys and aliases need a "<<" or a "*": most recipes have
	// neither, and are not walked again.
	if bytes.Contains(data, []byte("<<")) || bytes.IndexByte(data, '*') >= 0 {
		before := len(l.diags)
		l.resolveMerges(display, doc.Content[0], map[*yaml.Node]bool{})
		if len(l.diags) > before {
			return nil, false
		}
	}
	return doc.Content[0], true
}

// emptyDocument says whether doc holds nothing (a trailing "---").
func emptyDocument(doc *yaml.Node) bool {
	return len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" && doc.Content[0].Value == ""
}

var unknownAnchorRe = regexp.MustCompile(`unknown anchor '([^']*)' referenced`)

// firstControl finds the first character YAML does not allow in a file:
// C0 and C1 controls but tab, line feed, carriage return and NEL, and DEL.
func firstControl(data []byte) (line, col int, c rune, found bool) {
	for i, r := range string(data) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r >= 0x80 && r <= 0x9f && r != 0x85 || r == 0xfeff && i > 0 {
			line, col = lineCol(data, i)
			return line, col, r, true
		}
	}
	return 0, 0, 0, false
}

// lineCol is the line and column (in characters) of byte offset at.
func lineCol(data []byte, at int) (line, col int) {
	before := data[:at]
	line = bytes.Count(before, []byte("\n")) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

// resolveMerges applies YAML merge keys (<<: *base, or a list of them)
// in place: the merged map's keys are added where the mapping does not
// set them itself (earlier maps of a list win), as YAML 1.1 specifies and
// as GitHub Actions users write them. The loader reads nodes one by one,
// so without this a merge key would be an ordinary key named "<<". An
// alias used as a key is refused: it would hide the key's name.
func (l *loader) resolveMerges(file string, n *yaml.Node, done map[*yaml.Node]bool) {
	if n == nil || done[n] {
		return
	}
	done[n] = true
	if n.Kind == yaml.AliasNode {
		l.resolveMerges(file, n.Alias, done)
		return
	}
	for _, c := range n.Content {
		l.resolveMerges(file, c, done)
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	own := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.ShortTag() != "!!merge" {
			own[k.Value] = true
		}
	}
	var kept, merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			l.at(file, k, "a YAML alias (*%s) cannot be a key: write the key out", k.Value)
			continue
		}
		if k.ShortTag() != "!!merge" {
			kept = append(kept, k, v)
			continue
		}
		sources := []*yaml.Node{v}
		if deref(v).Kind == yaml.SequenceNode {
			sources = deref(v).Content
		}
		for _, src := range sources {
			src = deref(src)
			if src.Kind != yaml.MappingNode {
				l.at(file, v, "<< merges maps (<<: *base, or a list of them), got %s", params.NodeKind(src))
				break
			}
			for j := 0; j+1 < len(src.Content); j += 2 {
				if key := src.Content[j].Value; !own[key] {
					own[key] = true
					merged = append(merged, src.Content[j], src.Content[j+1])
				}
			}
		}
	}
	n.Content = append(kept, merged...)
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// anchorName is the &name an alias points at, for messages.
func anchorName(alias *yaml.Node) string {
	if alias.Alias != nil && alias.Alias.Anchor != "" {
		return "&" + alias.Alias.Anchor
	}
	return "its anchor"
}

// firstInvalidUTF8 finds the first byte of data that is not UTF-8: its
// line and column (in characters) and the byte itself.
func firstInvalidUTF8(data []byte) (line, col int, b byte, ok bool) {
	if utf8.Valid(data) {
		return 0, 0, 0, true
	}
	line, col = 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return line, col, data[i], false
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return 0, 0, 0, true
}

// maxExpandedNodes bounds what a file may expand to through aliases: each
// alias repeats the node it names, so nine levels of nine aliases would be
// 387 million values.
const maxExpandedNodes = 1_000_000

// maxExpandedBytes bounds the text of a file's values with every alias
// followed: a thousand aliases of one 1 MB value are few values but a
// gigabyte of text in every plan, state file and task.
const maxExpandedBytes = 64 << 20

// size is what a node expands to: its values and their text.
type size struct{ nodes, bytes int64 }

func (z size) over() bool { return z.nodes > maxExpandedNodes || z.bytes > maxExpandedBytes }

// expansion counts the values of a document with every alias followed,
// remembering the alias at which the count went over a bound.
type expansion struct {
	seen    map[*yaml.Node]size // sizes of nodes already counted
	culprit *yaml.Node
}

// tooBig is what a node being counted counts for while it is counted, so
// that an alias cycle counts as too big.
var tooBig = size{maxExpandedNodes + 1, maxExpandedBytes + 1}

// count sizes n, stopping past either bound.
func (c *expansion) count(n *yaml.Node) size {
	if v, ok := c.seen[n]; ok {
		return v
	}
	c.seen[n] = tooBig
	total := size{1, int64(len(n.Value))}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		total = c.count(n.Alias)
	}
	for _, child := range n.Content {
		z := c.count(child)
		total.nodes += z.nodes
		total.bytes += z.bytes
		if total.over() {
			if c.culprit == nil && child.Kind == yaml.AliasNode {
				c.culprit = child
			}
			break
		}
	}
	if total.over() {
		if c.culprit == nil && n.Kind == yaml.AliasNode {
			c.culprit = n
		}
		total = size{min(total.nodes, maxExpandedNodes+1), min(total.bytes, maxExpandedBytes+1)}
	}
	c.seen[n] = total
	return total
}

func (l *loader) includes(r *Recipe, display, abs string, n *yaml.Node) {
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
			continue // the grammar said so
		}
		p := c.Value
		if p == "" {
			l.at(display, c, "include entry is empty: name a recipe file")
			continue
		}
		incAbs, incDisplay := p, p // an absolute path stays absolute in messages
		if !filepath.IsAbs(p) {
			incAbs = filepath.Join(filepath.Dir(abs), p)
			incDisplay = filepath.Join(filepath.Dir(display), p)
		}
		if l.stack[incAbs] {
			l.at(display, c, "include cycle: %s includes itself through %s", display, p)
			continue
		}
		real, err := filepath.EvalSymlinks(incAbs)
		if err != nil {
			l.at(display, c, "cannot include %s: %v", p, errors.Unwrap(err))
			continue
		}
		if !l.mayInclude(real) {
			l.at(display, c, "cannot include %s: it is outside the recipe's folder %s (symlinks followed); "+
				"to allow recipes from its folder, run with --include-dir %s", p, l.includeDirs[0], filepath.Dir(real))
			continue
		}
		before := len(l.diags)
		if !l.loadFile(r, incDisplay, incAbs, false) && len(l.diags) == before {
			l.at(display, c, "cannot include %s", p)
		}
		// Say where each problem of the included file was included from.
		for i := before; i < len(l.diags); i++ {
			if l.diags[i].File == incDisplay && !strings.Contains(l.diags[i].Msg, "(included from ") {
				l.diags[i].Msg += fmt.Sprintf(" (included from %s:%d:%d)", display, c.Line, c.Column)
			}
		}
	}
}

// mayInclude says whether the file at real (symlinks resolved) lies in the
// recipe's folder tree or under an --include-dir.
func (l *loader) mayInclude(real string) bool {
	for _, d := range l.includeDirs {
		if rel, err := filepath.Rel(d, real); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

// vars reads a map of vars the grammar has checked: names that break its
// rules, and a name given twice in one file, were reported there.
func (l *loader) vars(r *Recipe, file string, n *yaml.Node) {
	names := grammar.Field("vars").Keys
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !names.MatchString(k.Value) {
			continue
		}
		val := l.value(file, v, "var "+k.Value)
		if old := r.Var(k.Value); old != nil {
			if old.Pos.File == file {
				continue
			}
			// A var of the including file overrides the included one.
			old.Value, old.Pos = val, Pos{file, k.Line, k.Column}
			continue
		}
		r.Vars = append(r.Vars, &Var{Name: k.Value, Value: val, Pos: Pos{file, k.Line, k.Column}})
	}
}

// env reads the recipe's env, which the grammar has checked.
func (l *loader) env(r *Recipe, file string, n *yaml.Node) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v = deref(v); seen[k.Value] || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			continue
		}
		seen[k.Value] = true
		r.Env = append(r.Env, &EnvEntry{Name: k.Value, Value: l.value(file, v, "env "+k.Value)})
	}
}

// applyVarFile overrides vars with the values of a --vars file. Keys the
// recipe does not declare are added: a genre's settings file may serve
// several recipes.
func (l *loader) applyVarFile(r *Recipe, path string) {
	data, err := regfile.ReadFile(path)
	if err != nil {
		l.diags.Add(path, 0, 0, "cannot read vars file: %v", err)
		return
	}
	doc, ok := l.parseYAML(path, data)
	if !ok {
		return
	}
	if doc.Kind != yaml.MappingNode {
		// Never the content: a .env file given by mistake holds secrets.
		kind := map[yaml.Kind]string{yaml.ScalarNode: "a single value", yaml.SequenceNode: "a list"}[doc.Kind]
		if kind == "" {
			kind = "something else"
		}
		hint := ""
		if doc.Kind == yaml.ScalarNode && strings.Contains(doc.Value, "=") {
			hint = " (NAME=VALUE lines are a .env file: write `name: value` lines, or pass each with --set)"
		}
		l.at(path, doc, "a vars file must be a map of names to values (`name: value` lines), got %s%s", kind, hint)
		return
	}
	before := len(l.diags)
	params.Report(&l.diags, path, doc, "", grammar.Field("vars").Check(doc))
	if len(l.diags) == before {
		l.vars(r, path, doc)
	}
}

// applySet overrides one var from --set name=value. The value is text; when
// the recipe's default is a number or a boolean, it is converted to that type.
func (l *loader) applySet(r *Recipe, s string) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		l.diags.Add("--set", 0, 0, "--set takes NAME=VALUE; one argument has no NAME= (it is not repeated here: it may be a secret)")
		return
	}
	v := r.Var(name)
	if v == nil {
		names := make([]string, len(r.Vars))
		for i, v := range r.Vars {
			names[i] = v.Name
		}
		l.diags.Add("--set", 0, 0, "--set %s=…: the recipe declares no var %q%s; declared vars: %s", name, name,
			diag.DidYouMean(name, names), diag.Names(names))
		return
	}
	var typed any = value
	if def, err := v.Value.Eval(&eval.Scope{}); err == nil && len(v.Value.Exprs()) == 0 {
		switch def.(type) {
		case int:
			n, err := strconv.Atoi(value)
			if err != nil {
				l.diags.Add("--set", 0, 0, "--set %s=…: var %q takes an integer (the value is not repeated here: it may be a secret)", name, name)
				return
			}
			typed = n
		case float64:
			f, err := strconv.ParseFloat(value, 64)
			if err != nil {
				l.diags.Add("--set", 0, 0, "--set %s=…: var %q takes a number (the value is not repeated here: it may be a secret)", name, name)
				return
			}
			typed = f
		case bool:
			b, err := strconv.ParseBool(value)
			if err != nil {
				l.diags.Add("--set", 0, 0, "--set %s=…: var %q takes true or false (the value is not repeated here: it may be a secret)", name, name)
				return
			}
			typed = b
		}
	}
	v.Pos = Pos{File: "--set"}
	if str, ok := typed.(string); ok && params.HasTemplate(str) {
		v.Value = l.template("--set", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: str}, "var "+name)
		return
	}
	v.Value = eval.Literal(typed)
}

// value compiles a YAML node into an eval.Value, compiling every template.
// what names the value in error messages.
func (l *loader) value(file string, n *yaml.Node, what string) eval.Value {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		var keys []string
		var vals []eval.Value
		for i := 0; i+1 < len(n.Content); i += 2 {
			keys = append(keys, n.Content[i].Value)
			vals = append(vals, l.value(file, n.Content[i+1], what+"."+n.Content[i].Value))
		}
		return eval.MapValue(keys, vals)
	case yaml.SequenceNode:
		items := make([]eval.Value, len(n.Content))
		for i, c := range n.Content {
			items[i] = l.value(file, c, fmt.Sprintf("%s[%d]", what, i))
		}
		return eval.ListValue(items)
	case yaml.ScalarNode:
		if n.Tag == "!!str" && params.HasTemplate(n.Value) {
			return l.template(file, n, what)
		}
		var v any
		if err := n.Decode(&v); err != nil {
			l.at(file, n, "cannot read value: %v", err)
		}
		return eval.Literal(v)
	}
	return eval.Literal(nil)
}

// commentHint follows an expression error in a plain scalar that YAML cut
// at " #": the rest of the line became a comment.
const commentHint = " (in YAML, \" #\" starts a comment: put the value in quotes)"

// template compiles a string scalar's templates, reporting each bad one at
// its own column.
func (l *loader) template(file string, n *yaml.Node, what string) eval.Value {
	t, errs := l.exprs.ParseTemplate(n.Value)
	for _, e := range errs {
		line, col := offsetPos(n, e.Offset)
		msg := e.Msg
		if n.Style == 0 && (strings.HasPrefix(msg, "unclosed") || n.LineComment != "") {
			msg += commentHint
		}
		l.diags.Add(file, line, col, "%s: %s", what, msg)
	}
	l.remember(file, n, t.Exprs()...)
	return eval.TemplateValue(t)
}

// expr compiles a bare expression (if, for_each). A value wrapped in ${{ }}
// is accepted too, as GitHub Actions users write it.
func (l *loader) expr(file string, n *yaml.Node, what string) *eval.Expr {
	if n.Kind != yaml.ScalarNode {
		l.at(file, n, "%s must be an expression, got %s", what, params.NodeKind(n))
		return nil
	}
	src, shift := n.Value, 0
	if t := strings.TrimSpace(src); strings.HasPrefix(t, "${{") && !strings.Contains(t, "}}") {
		msg := "unclosed ${{: end the expression with }}"
		if n.Style == 0 {
			msg += commentHint
		}
		l.at(file, n, "%s: %s", what, msg)
		return nil
	}
	if params.IsExpression(src) {
		t := strings.TrimSpace(src)
		inner := t[3 : len(t)-2]
		shift = strings.Index(src, "${{") + 3
		src = inner
	}
	e, err := l.exprs.Compile(src)
	if err != nil {
		ce := err.(*eval.CompileError)
		line, col := offsetPos(n, shift+ce.Col-1)
		msg := ce.Msg
		if n.Style == 0 && n.LineComment != "" {
			msg += commentHint
		}
		l.diags.Add(file, line, col, "%s: %s", what, msg)
		return nil
	}
	l.remember(file, n, e)
	return e
}

func (l *loader) remember(file string, n *yaml.Node, es ...*eval.Expr) {
	if l.exprPos == nil {
		l.exprPos = map[*eval.Expr]Pos{}
	}
	for _, e := range es {
		off := strings.Index(n.Value, e.Source)
		off += len(e.Source) - len(strings.TrimLeft(e.Source, " \t"))
		line, col := offsetPos(n, off)
		l.exprPos[e] = Pos{file, line, col}
	}
}

// offsetPos maps a byte offset inside a scalar's value to a file position.
// Exact for plain and quoted one-line scalars; for block scalars it finds
// the line and assumes the block's indentation.
func offsetPos(n *yaml.Node, off int) (int, int) {
	if off < 0 {
		off = 0
	}
	if off > len(n.Value) {
		off = len(n.Value)
	}
	before := n.Value[:off]
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		nl := strings.Count(before, "\n")
		lastNL := strings.LastIndexByte(before, '\n')
		return n.Line + 1 + nl, n.Column + 2 + len([]rune(before[lastNL+1:]))
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		return n.Line, n.Column + 1 + len([]rune(before))
	}
	return n.Line, n.Column + len([]rune(before))
}

// tasks reads the tasks of one file in file order; specs holds what the
// grammar decoded of each.
func (l *loader) tasks(r *Recipe, file, dir string, n *yaml.Node, specs map[string]taskSpec) {
	ids := grammar.Field("tasks").Keys
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !ids.MatchString(k.Value) {
			continue // the grammar said so
		}
		if old := r.Task(k.Value); old != nil {
			if old.Pos.File != file { // twice in one file: the grammar said so
				l.at(file, k, "task id %q is already used at %s:%d:%d", k.Value, old.Pos.File, old.Pos.Line, old.Pos.Col)
			}
			continue
		}
		if t := l.task(file, dir, k, deref(v), specs[k.Value]); t != nil {
			r.addTask(t)
		}
	}
}

// task compiles one task from its node n and what the grammar decoded of
// it, spec. Shapes were checked there: this checks what needs more.
func (l *loader) task(file, dir string, k, n *yaml.Node, spec taskSpec) *Task {
	t := &Task{ID: k.Value, Pos: Pos{file, k.Line, k.Column}, Dir: dir, Retry: spec.Retry,
		Timeout: spec.Timeout, ContinueOnError: spec.ContinueOnError, Description: spec.Description}
	what := fmt.Sprintf("task %q", t.ID)
	if n.Kind != yaml.MappingNode {
		return t
	}
	if uses := value(n, "uses"); uses != nil && spec.Uses != "" {
		t.Uses = spec.Uses
		typ, found := l.reg.Lookup(t.Uses)
		if !found {
			l.at(file, uses, "%s: unknown task type %q%s; run `runner tasks` to list them", what, t.Uses,
				diag.DidYouMean(t.Uses, l.reg.Names()))
		}
		t.Type = typ
	}
	with := value(n, "with")
	hasWith := with != nil
	if with != nil && with.Kind != yaml.MappingNode && with.Tag != "!!null" && !params.IsExpression(with.Value) {
		return t // the grammar said it is no map
	}
	before := len(l.diags)
	if t.Type != nil {
		if !hasWith {
			with = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
		}
		errs := t.Type.Params.Check(with)
		for _, e := range errs {
			e.Path = append([]string{"with"}, e.Path...)
		}
		params.Report(&l.diags, file, n, what, errs)
	}
	if hasWith {
		t.With = l.value(file, with, what+": with")
	}
	if t.Type != nil && !hasExpression(with) && len(l.diags) == before {
		// Literal params are checked now, not when the task's turn comes.
		var literal any
		if err := with.Decode(&literal); err == nil && literal != nil {
			if _, err := t.Type.Decode(literal, dir); err != nil {
				l.reportDecode(file, n, what, err)
			}
		}
	}
	if v := value(n, "needs"); v != nil {
		nodes := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			nodes = v.Content
		}
		seen := map[string]bool{}
		for i, node := range nodes {
			if node.Kind != yaml.ScalarNode || i >= len(spec.Needs) {
				continue // the grammar said so
			}
			id := spec.Needs[i]
			t.Needs = append(t.Needs, id)
			t.NeedsPos = append(t.NeedsPos, Pos{file, node.Line, node.Column})
			if seen[id] {
				l.at(file, node, "%s: needs %q twice", what, id)
			}
			seen[id] = true
		}
	}
	if v := value(n, "if"); v != nil && v.Kind == yaml.ScalarNode {
		if v.Tag == "!!bool" {
			t.If, _ = l.exprs.Compile(v.Value)
		} else if v.Tag == "!!str" {
			t.If = l.expr(file, v, what+": if")
		} else {
			// `if: 0` once ran the task as if there were no condition.
			l.at(file, v, "%s: if: expected an expression or true/false, got %s: a condition must give a boolean", what, params.NodeKind(v))
		}
	}
	if v := value(n, "for_each"); v != nil {
		if v.Kind == yaml.SequenceNode {
			t.ForEach = l.value(file, v, what+": for_each")
		} else if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
			if e := l.expr(file, v, what+": for_each"); e != nil {
				t.ForEach = eval.TemplateValue(l.whole(e))
			}
		}
	}
	if r := t.Retry; r.MaxDelay > 0 && r.MaxDelay < r.Delay {
		l.at(file, value(value(n, "retry"), "max_delay"), "%s: retry.max_delay %s is shorter than retry.delay %s: the cap would cut even the first wait", what, r.MaxDelay, r.Delay)
	}
	return t
}

// reportDecode reports what decoding a task's literal params found, each
// problem at the node its path leads to in the task n.
func (l *loader) reportDecode(file string, n *yaml.Node, what string, err error) {
	var list params.Errors
	var one *params.FieldError
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = params.Errors{one}
	default:
		l.at(file, n, "%s: %v", what, err)
		return
	}
	params.Report(&l.diags, file, n, what, list)
}

// whole wraps a compiled bare expression as a typed template.
func (l *loader) whole(e *eval.Expr) *eval.Template {
	t, _ := l.exprs.ParseTemplate("${{" + e.Source + "}}")
	return t
}

// hasExpression says whether a node holds a ${{ }} template anywhere.
func hasExpression(n *yaml.Node) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.ScalarNode {
		return strings.Contains(n.Value, "${{")
	}
	for _, c := range n.Content {
		if hasExpression(c) {
			return true
		}
	}
	return false
}
