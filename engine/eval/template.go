package eval

import (
	"fmt"
	"strings"
)

// Template is a string with zero or more ${{ … }} expressions.
type Template struct {
	Raw   string
	parts []part
}

type part struct {
	text string
	expr *Expr
}

// TemplateError is an expression inside a template that does not compile;
// Offset is the 0-based byte offset in the template where it failed.
type TemplateError struct {
	Offset int
	Msg    string
}

func (e *TemplateError) Error() string { return e.Msg }

// ParseTemplate compiles every ${{ … }} in s. All errors are returned.
func ParseTemplate(s string) (*Template, []*TemplateError) { return NewCompiler().ParseTemplate(s) }

// ParseTemplate compiles every ${{ … }} in s with c. All errors are returned.
func (c *Compiler) ParseTemplate(s string) (*Template, []*TemplateError) {
	t := &Template{Raw: s}
	var errs []*TemplateError
	rest, offset := s, 0
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, part{text: rest})
			}
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: rest[:i]})
		}
		j := strings.Index(rest[i+3:], "}}")
		if j < 0 {
			errs = append(errs, &TemplateError{Offset: offset + i, Msg: "unclosed ${{: add the closing }}"})
			break
		}
		src := rest[i+3 : i+3+j]
		e, err := c.Compile(src)
		if err != nil {
			ce := err.(*CompileError)
			lead := len(src) - len(strings.TrimLeft(src, " \t"))
			col := ce.Col - 1
			if col < lead {
				col = lead
			}
			errs = append(errs, &TemplateError{Offset: offset + i + 3 + col, Msg: ce.Msg})
		} else {
			t.parts = append(t.parts, part{expr: e})
		}
		rest = rest[i+3+j+2:]
		offset += i + 3 + j + 2
	}
	return t, errs
}

// IsLiteral reports whether the template contains no expression.
func (t *Template) IsLiteral() bool {
	for _, p := range t.parts {
		if p.expr != nil {
			return false
		}
	}
	return true
}

// whole returns the expression when the template is exactly one ${{ }},
// surrounding spaces aside: such a template keeps the value's type.
func (t *Template) whole() *Expr {
	var e *Expr
	for _, p := range t.parts {
		switch {
		case p.expr != nil && e == nil:
			e = p.expr
		case p.expr != nil:
			return nil
		case strings.TrimSpace(p.text) != "":
			return nil
		}
	}
	return e
}

// Source returns the template as a recipe would write it, each
// expression as `${{ expr }}`.
func (t *Template) Source() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.expr != nil {
			b.WriteString("${{ " + strings.TrimSpace(p.expr.Source) + " }}")
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// Exprs returns the template's expressions.
func (t *Template) Exprs() []*Expr {
	var out []*Expr
	for _, p := range t.parts {
		if p.expr != nil {
			out = append(out, p.expr)
		}
	}
	return out
}

// Eval renders the template. A template that is one expression gives that
// expression's value with its type; otherwise the result is a string.
func (t *Template) Eval(s *Scope) (any, error) {
	if e := t.whole(); e != nil {
		return e.Eval(s)
	}
	var b strings.Builder
	unknown := false
	for _, p := range t.parts {
		if p.expr == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := p.expr.Eval(s)
		if err != nil {
			return nil, err
		}
		if _, ok := v.(Unknown); ok {
			unknown = true
			b.WriteString("(known after run)")
			continue
		}
		b.WriteString(Text(v))
	}
	if unknown {
		return Unknown{Source: t.Raw, Text: b.String()}, nil
	}
	return b.String(), nil
}

// String evaluates the template and renders the result as text.
func (t *Template) String(s *Scope) (string, error) {
	v, err := t.Eval(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", t.Raw, err)
	}
	return Text(v), nil
}
