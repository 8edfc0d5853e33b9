// Package argo renders an exported recipe as an Argo Workflows Workflow,
// or a CronWorkflow when the recipe has a schedule.
package argo

import (
	"errors"

	"github.com/novelfactory/runner/engine/export"
)

// Render returns the workflow as YAML, with notes for its reader.
func Render(w *export.Workflow) ([]byte, []string, error) {
	return nil, nil, errors.New("argo: not implemented yet")
}
