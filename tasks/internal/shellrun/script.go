package shellrun

import (
	"errors"
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// MaxScript is the longest script the interpreter reads; a longer one runs
// in /bin/sh. Parsing and running nest Go calls as deep as the script
// nests, and a few megabytes of `$(` would overflow runner's stack.
const MaxScript = 64 << 10

// Script is a run script, parsed.
type Script struct {
	file *syntax.File
	// System says why the script must run in /bin/sh rather than in the
	// interpreter ("it reads $!, a process id"); empty when the
	// interpreter runs it.
	System string
}

// SyntaxError is a script that does not parse as POSIX sh.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("run:%d:%d: %s (the built-in shell reads POSIX sh; set `shell: bash` for bash)", e.Line, e.Col, e.Msg)
}

// Parse reads src as a POSIX sh script. A script that does not parse is a
// *SyntaxError; one too long for the interpreter parses to a Script whose
// System says so.
func Parse(src string) (*Script, error) {
	if len(src) > MaxScript {
		return &Script{System: fmt.Sprintf("it is longer than %d KiB", MaxScript>>10)}, nil
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(src), "")
	if err != nil {
		var pe syntax.ParseError
		if errors.As(err, &pe) {
			return nil, &SyntaxError{Line: int(pe.Pos.Line()), Col: int(pe.Pos.Col()), Msg: pe.Text}
		}
		var le syntax.LangError
		if errors.As(err, &le) {
			msg := strings.TrimPrefix(le.Error(), le.Pos.String()+": ")
			return nil, &SyntaxError{Line: int(le.Pos.Line()), Col: int(le.Pos.Col()), Msg: msg}
		}
		return nil, fmt.Errorf("run: %w", err)
	}
	// $0 is "sh", as with sh -c.
	f.Name = "sh"
	if why := systemReason(f); why != "" {
		return &Script{System: why}, nil
	}
	declarations(f)
	return &Script{file: f}, nil
}

// declarations makes the declaration utilities export, readonly and local
// what the interpreter runs them as: it knows them as bash's declaration
// clauses only, and as commands of a POSIX script it calls them
// "unsupported builtin".
func declarations(f *syntax.File) {
	syntax.Walk(f, func(n syntax.Node) bool {
		if st, ok := n.(*syntax.Stmt); ok {
			if c, ok := st.Cmd.(*syntax.CallExpr); ok && len(c.Assigns) == 0 && len(c.Args) > 0 {
				switch name := c.Args[0].Lit(); name {
				case "export", "readonly", "local":
					d := &syntax.DeclClause{Variant: &syntax.Lit{ValuePos: c.Args[0].Pos(), ValueEnd: c.Args[0].End(), Value: name}}
					for _, w := range c.Args[1:] {
						d.Args = append(d.Args, assignment(w))
					}
					st.Cmd = d
				}
			}
		}
		return true
	})
}

// assignment reads an argument of export, readonly or local as bash's
// parser would: NAME=VALUE, a bare NAME or flag, or a word whose
// expansion says which.
func assignment(w *syntax.Word) *syntax.Assign {
	if lit, ok := w.Parts[0].(*syntax.Lit); ok {
		if i := strings.IndexByte(lit.Value, '='); i > 0 && syntax.ValidName(lit.Value[:i]) {
			first := &syntax.Lit{ValuePos: lit.ValuePos, ValueEnd: lit.ValueEnd, Value: lit.Value[i+1:]}
			value := &syntax.Word{Parts: append([]syntax.WordPart{first}, w.Parts[1:]...)}
			return &syntax.Assign{Name: &syntax.Lit{ValuePos: lit.ValuePos, ValueEnd: lit.ValueEnd, Value: lit.Value[:i]}, Value: value}
		}
		if len(w.Parts) == 1 && (syntax.ValidName(lit.Value) || strings.HasPrefix(lit.Value, "-")) {
			return &syntax.Assign{Naked: true, Name: lit}
		}
	}
	return &syntax.Assign{Naked: true, Value: w}
}

// systemReason says why f needs /bin/sh: what the interpreter has no
// process, job or signal for, or does otherwise than sh. A command whose
// name is only known when the script runs (eval, "$cmd") is not looked at.
func systemReason(f *syntax.File) string {
	why := ""
	syntax.Walk(f, func(n syntax.Node) bool {
		if why != "" {
			return false
		}
		switch n := n.(type) {
		case *syntax.ParamExp:
			if n.Param != nil {
				why = paramReason(n.Param.Value)
			}
		case *syntax.CallExpr:
			why = callReason(n)
		case *syntax.Redirect:
			why = redirectReason(n)
		}
		return why == ""
	})
	return why
}

func paramReason(name string) string {
	switch name {
	case "!":
		return "it reads $!, the process id of a background job"
	case "$":
		return "it reads $$, the shell's process id"
	case "PPID":
		return "it reads $PPID"
	case "LINENO":
		return "it reads $LINENO"
	}
	return ""
}

// systemBuiltins lists the builtins of sh that the interpreter lacks or runs
// otherwise; every use of them goes to /bin/sh.
var systemBuiltins = map[string]string{
	"kill":   "it uses `kill`, which needs process ids",
	"jobs":   "it uses job control (`jobs`)",
	"fg":     "it uses job control (`fg`)",
	"bg":     "it uses job control (`bg`)",
	"umask":  "it uses `umask`",
	"ulimit": "it uses `ulimit`",
	"times":  "it uses `times`",
	"newgrp": "it uses `newgrp`",
	"fc":     "it uses `fc`",
	"alias":  "it defines aliases, which sh expands in scripts and the built-in shell does not",
}

func callReason(c *syntax.CallExpr) string {
	if len(c.Args) == 0 {
		return ""
	}
	name := c.Args[0].Lit()
	if why, ok := systemBuiltins[name]; ok {
		return why
	}
	args := make([]string, 0, len(c.Args)-1)
	for _, w := range c.Args[1:] {
		args = append(args, w.Lit()) // "" when not a plain word
	}
	switch name {
	case "trap":
		return trapReason(c, args)
	case "set":
		return setReason(args)
	case "cd":
		for _, a := range args {
			if strings.HasPrefix(a, "-") && a != "-" {
				return "it uses `cd " + a + "`"
			}
		}
	case "wait":
		for _, a := range args {
			if strings.HasPrefix(a, "%") {
				return "it uses job control (`wait " + a + "`)"
			}
		}
	}
	return ""
}

// trapReason: the interpreter traps EXIT (and bash's ERR) only.
func trapReason(c *syntax.CallExpr, args []string) string {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return ""
	}
	if args[0] == "-l" || args[0] == "-p" {
		return "it uses `trap " + args[0] + "`"
	}
	signals := args[1:]
	if len(args) == 1 {
		signals = args // `trap SIG` resets it
	}
	for _, s := range signals {
		if s != "EXIT" && s != "ERR" {
			if s == "" {
				s = "a signal named by an expansion"
			}
			return "it traps " + s + "; the built-in shell traps EXIT only"
		}
	}
	return ""
}

// setReason: the interpreter knows -a -e -f -n -u -x and -o pipefail.
func setReason(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "" || a == "-" || a == "--" || (a[0] != '-' && a[0] != '+') {
			return "" // the positional parameters follow
		}
		if a[1:] == "o" {
			if i+1 == len(args) {
				return ""
			}
			i++
			switch args[i] {
			case "allexport", "errexit", "noexec", "noglob", "nounset", "xtrace", "pipefail":
				continue
			}
			return "it uses `set " + a + " " + args[i] + "`"
		}
		for _, f := range a[1:] {
			if !strings.ContainsRune("aefnux", f) {
				return "it uses `set " + a + "`"
			}
		}
	}
	return ""
}

// redirectReason: the interpreter has file descriptors 0, 1 and 2 only.
func redirectReason(r *syntax.Redirect) string {
	if r.N != nil && r.N.Value != "0" && r.N.Value != "1" && r.N.Value != "2" {
		return "it redirects file descriptor " + r.N.Value
	}
	switch r.Op {
	case syntax.RdrInOut, syntax.RdrClob:
		return "it uses the redirection " + r.Op.String()
	case syntax.DplOut:
		if w := r.Word.Lit(); w != "1" && w != "2" && w != "-" {
			return "it duplicates file descriptor " + orExpansion(w)
		}
	case syntax.DplIn:
		if w := r.Word.Lit(); w != "-" {
			return "it duplicates file descriptor " + orExpansion(w)
		}
	}
	return ""
}

func orExpansion(s string) string {
	if s == "" {
		return "named by an expansion"
	}
	return s
}
