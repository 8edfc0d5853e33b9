// Package argo renders an exported recipe (export.Workflow) as an Argo
// Workflows Workflow, or as CronWorkflows when the recipe has a schedule:
// a DAG template with one container template per step, each running
// `runner exec` in the image, with depends that spell out which endings
// of a need let a step start. It writes YAML and notes for the reader;
// it runs nothing and talks to no cluster. Retries stay inside runner
// exec, so no template has a retryStrategy.
package argo
