// Package argo renders an exported recipe as an Argo Workflows Workflow,
// or a CronWorkflow when the recipe has a schedule.
package argo

import (
	"errors"

	"github.com/novelfactory/runner/engine/export"
)

// Render returns the workflow as YAML.
func Render(w *export.Workflow) ([]byte, error) {
	return nil, errors.New("argo: not implemented yet")
}
