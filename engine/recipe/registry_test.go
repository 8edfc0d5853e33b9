package recipe_test

import (
	"context"
	"errors"
	"time"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
)

// echoParams exercise every kind of param the validator checks.
type echoParams struct {
	Message string            `yaml:"message" json:"message" required:"true"`
	Count   int               `yaml:"count" json:"count" default:"1"`
	Tags    []string          `yaml:"tags" json:"tags"`
	Labels  map[string]string `yaml:"labels" json:"labels"`
	Wait    time.Duration     `yaml:"wait" json:"wait"`
	Mode    string            `yaml:"mode" json:"mode" default:"fast" enum:"fast,slow"`
	Enabled bool              `yaml:"enabled" json:"enabled"`
	Limit   params.Size       `yaml:"limit" json:"limit" default:"1MiB"`
	Out     params.Path       `yaml:"out" json:"out"`
}

// testRegistry holds an in-process "echo" type, so that the loader is
// tested without the real task types.
func testRegistry() *tasktype.Registry {
	reg := tasktype.NewRegistry()
	tasktype.Add(reg, tasktype.Def[echoParams]{
		Name:    "echo",
		Summary: "Return the message.",
		Outputs: []tasktype.Output{{Name: "text", Type: "string"}},
		Check: func(p *echoParams) error {
			switch {
			case p.Count > 100:
				return params.Errorf("count", "%d messages are too many: at most 100", p.Count)
			case p.Mode == "slow" && p.Enabled:
				return errors.New("a slow echo cannot be enabled")
			}
			return nil
		},
		Plan: func(context.Context, *tasktype.Env, *echoParams) (tasktype.Plan, error) {
			return tasktype.Plan{}, nil
		},
		Run: func(_ context.Context, _ *tasktype.Env, p *echoParams) (tasktype.Outputs, error) {
			return tasktype.Outputs{"text": p.Message}, nil
		},
	})
	return reg
}
