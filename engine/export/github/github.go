// Package github renders an exported recipe as a GitHub Actions workflow.
package github

import (
	"errors"

	"github.com/novelfactory/runner/engine/export"
)

// Render returns the workflow as YAML, with notes for its reader.
func Render(w *export.Workflow) ([]byte, []string, error) {
	return nil, nil, errors.New("github: not implemented yet")
}
