package manuscript

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// frontMatter is what an episode's YAML header says about it.
type frontMatter struct {
	Title, Part string
	Draft       bool
	Order       *float64
	Fields      map[string]any
}

// splitFrontMatter separates a leading "---" YAML block from the Markdown.
// The block is replaced by as many newlines, so that line numbers in the
// returned body are line numbers in the file.
func splitFrontMatter(rel string, data []byte) (frontMatter, []byte, error) {
	var fm frontMatter
	first, rest, ok := cutLine(data)
	if !ok || string(bytes.TrimRight(first, " \t\r")) != "---" {
		return fm, data, nil
	}
	end := -1
	for off := len(data) - len(rest); off < len(data); {
		line, next, _ := cutLine(data[off:])
		t := string(bytes.TrimRight(line, " \t\r"))
		if t == "---" || t == "..." {
			end = len(data) - len(next)
			break
		}
		off = len(data) - len(next)
		if len(next) == 0 {
			break
		}
	}
	if end < 0 {
		return fm, nil, fmt.Errorf("%s:1:1: front matter opened with --- is never closed (add a line with --- after it)", rel)
	}
	block := data[len(first)+1 : end]
	if i := bytes.LastIndex(bytes.TrimRight(block, "\n"), []byte("\n")); i >= 0 {
		block = block[:i+1] // drop the closing line
	} else {
		block = nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(block, &root); err != nil {
		return fm, nil, fmt.Errorf("%s: front matter: %s", rel, shiftYAMLLine(err.Error(), 1))
	}
	if len(root.Content) > 0 {
		doc := root.Content[0]
		if doc.Kind != yaml.MappingNode {
			return fm, nil, fmt.Errorf("%s:%d:%d: front matter must be a mapping (title: …), not a %s", rel, doc.Line+1, doc.Column, kindName(doc))
		}
		if err := doc.Decode(&fm.Fields); err != nil {
			return fm, nil, fmt.Errorf("%s: front matter: %s", rel, shiftYAMLLine(err.Error(), 1))
		}
		for i := 0; i+1 < len(doc.Content); i += 2 {
			key, val := doc.Content[i], doc.Content[i+1]
			at := fmt.Sprintf("%s:%d:%d", rel, val.Line+1, val.Column)
			switch key.Value {
			case "title", "part":
				if val.Kind != yaml.ScalarNode {
					return fm, nil, fmt.Errorf("%s: front matter %s: expected text", at, key.Value)
				}
				if r, bad := badTextChar(val.Value); bad {
					return fm, nil, fmt.Errorf("%s: front matter %s holds %s, which a book cannot show", at, key.Value, charName(r))
				}
				// A blank title or part is one not given: the title falls
				// back to the opening heading or the file name.
				if key.Value == "title" {
					fm.Title = strings.TrimSpace(val.Value)
				} else {
					fm.Part = strings.TrimSpace(val.Value)
				}
			case "draft":
				if err := val.Decode(&fm.Draft); err != nil {
					return fm, nil, fmt.Errorf("%s: front matter draft: expected true or false, got %q", at, val.Value)
				}
			case "order":
				n, err := strconv.ParseFloat(val.Value, 64)
				if err != nil || val.Kind != yaml.ScalarNode {
					return fm, nil, fmt.Errorf("%s: front matter order: expected a number, got %q", at, val.Value)
				}
				fm.Order = &n
			}
		}
	}
	body := make([]byte, 0, len(data))
	body = append(body, bytes.Repeat([]byte("\n"), bytes.Count(data[:end], []byte("\n")))...)
	body = append(body, data[end:]...)
	return fm, body, nil
}

func cutLine(b []byte) (line, rest []byte, found bool) {
	return bytes.Cut(b, []byte("\n"))
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// shiftYAMLLine moves the line numbers in a yaml.v3 message by delta, so that
// they count from the top of the file rather than of the block.
func shiftYAMLLine(msg string, delta int) string {
	return yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(m[len("line "):])
		return "line " + strconv.Itoa(n+delta)
	})
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "single value"
	case yaml.MappingNode:
		return "mapping"
	}
	return "document"
}
