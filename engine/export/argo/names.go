package argo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Argo's limits on names, from workflow/validate/validate.go (v4.0.5).
const (
	// maxFieldName bounds a template's or a DAG task's name.
	maxFieldName = 128
	// maxCronWorkflowName bounds a CronWorkflow's name: Argo appends the
	// start time (-1615836720) to name each run, within Kubernetes' 63.
	maxCronWorkflowName = 52
	// maxGenerateName bounds a Workflow's generateName: Kubernetes adds 5
	// random characters, and Argo refuses names over 63.
	maxGenerateName = 58
	// hashLen is the length of the suffix a renamed id gets.
	hashLen = 6
)

// exprWords are the words of the expression language Argo evaluates
// depends in: a task named so would be read as an operator or a value.
var exprWords = []string{"and", "contains", "endswith", "false", "in", "let", "matches", "nil", "not", "or", "startswith", "true"}

// validName reports whether name can name a template and a DAG task in
// Argo as it is. Argo accepts [a-zA-Z0-9][-a-zA-Z0-9]* of at most 128
// characters; runner asks more, so that the name also fits where Argo
// puts it: lowercase, as in pod names (DNS names); starting with a
// letter, as depends needs; and not a word of depends' expressions.
func validName(name string, limit int) bool {
	if name == "" || len(name) > limit || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return !slices.Contains(exprWords, name)
}

// argoName returns name as it is when it is valid within limit, and else
// a valid name made from it — lowercased, every other character a "-",
// trimmed to fit — with a hash of name as suffix, so two names that
// differ only in what the cleaning drops still get different names.
func argoName(name string, limit int) string {
	if validName(name, limit) {
		return name
	}
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else if !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" || base[0] < 'a' || base[0] > 'z' {
		base = strings.TrimSuffix("t-"+base, "-")
	}
	base = strings.TrimRight(base[:min(len(base), limit-hashLen-1)], "-")
	return base + "-" + shortHash(name)
}

// shortHash is the first hashLen hex digits of name's SHA-256.
func shortHash(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])[:hashLen]
}

// names gives each step of a workflow its Argo name, unique among them.
type names struct {
	used map[string]string // Argo name → what it names, for errors
}

// claim reserves name for what; it fails when name is taken already.
func (n *names) claim(name, what string) error {
	if old, ok := n.used[name]; ok {
		return fmt.Errorf("argo: %s and %s would both be named %s in Argo: rename one of them", old, what, name)
	}
	n.used[name] = what
	return nil
}

// own returns a name for a step runner adds (init, a planning step):
// want, or, when a task has that name already, want with a hash suffix.
func (n *names) own(want, what string) (string, error) {
	name := argoName(want, maxFieldName)
	if _, taken := n.used[name]; taken {
		name = argoName(strings.TrimRight(want[:min(len(want), maxFieldName-hashLen-1)], "-")+"-"+shortHash("runner:"+want), maxFieldName)
	}
	return name, n.claim(name, what)
}
