package github

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/novelfactory/runner/engine/export"
)

// jobIDPattern is what GitHub accepts as a job id.
var jobIDPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// jobIDs names the job of each step. A step keeps its name when GitHub
// takes it as it is; otherwise (zip.plan, or two names GitHub would read
// as one, since its job ids ignore case) the job gets the name made valid
// and a hash of the step, so that two steps never share a job, and a note
// says so.
func jobIDs(steps []*export.Step) (map[*export.Step]string, []string, error) {
	sameName := map[string]int{}
	for _, s := range steps {
		sameName[strings.ToLower(s.Name)]++
	}
	ids := map[*export.Step]string{}
	var notes []string
	for _, s := range steps {
		id, why := s.Name, ""
		switch {
		case !jobIDPattern.MatchString(s.Name):
			why = "GitHub's job ids take only letters, digits, - and _"
		case sameName[strings.ToLower(s.Name)] > 1:
			why = "another step has the same name but for case, and GitHub's job ids ignore case"
		}
		if why != "" {
			id = validJobID(s.Name) + "-" + stepHash(s)
			notes = append(notes, fmt.Sprintf("%s runs as job %s: %s", describe(s), id, why))
		}
		ids[s] = id
	}
	owner := map[string]*export.Step{}
	for _, s := range steps {
		key := strings.ToLower(ids[s])
		if o := owner[key]; o != nil {
			return nil, nil, fmt.Errorf("github: %s and %s would both run as job %s: rename one of the tasks", describe(o), describe(s), ids[s])
		}
		owner[key] = s
	}
	return ids, notes, nil
}

// validJobID replaces what a job id cannot hold with _.
func validJobID(name string) string {
	var b strings.Builder
	for i, c := range name {
		ok := c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && (c == '-' || c >= '0' && c <= '9')
		if !ok {
			c = '_'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// stepHash is six hex digits that tell a step from every other: its kind
// and name (the init step and a task named init differ by kind).
func stepHash(s *export.Step) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%s", s.Kind, s.Name))
	return hex.EncodeToString(sum[:3])
}

// describe names a step for a reader.
func describe(s *export.Step) string {
	switch s.Kind {
	case export.Init:
		return "the init step"
	case export.Plan:
		return "the plan step of task " + s.Task.ID
	default:
		return "task " + s.Name
	}
}
