package state

import (
	"bytes"
	"encoding/json"

	"github.com/novelfactory/runner/engine/secret"
)

// Secrets are masked in the values a state file keeps — a task's outputs,
// for_each item, error and reason — before it is encoded, never in the
// encoded bytes: masking bytes would turn a secret that happens to read
// like a run id, a date or "succeeded" into "***" wherever it stands, and
// the file into one that means something else (or is not JSON at all).
// Ids, statuses, times and paths are runner's own and kept as they are.

// maskedTask returns a copy of t with the values a secret may be in masked.
func maskedTask(t *Task, m *secret.Masker) Task {
	out := *t
	if m == nil {
		return out
	}
	out.Outputs = maskValue(t.Outputs, m)
	out.Item = maskValue(t.Item, m)
	out.Error = m.String(t.Error)
	out.Reason = m.String(t.Reason)
	return out
}

// maskValue masks every string (and map key) in v. Values of any other
// shape go through JSON first, numbers kept exactly (json.Number).
func maskValue(v any, m *secret.Masker) any {
	switch v := v.(type) {
	case nil, bool, int, int64, float64, json.Number:
		return v
	case string:
		return m.String(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = maskValue(x, m)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[m.String(k)] = maskValue(x, m)
		}
		return out
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var generic any
	if dec.Decode(&generic) != nil {
		return nil
	}
	return maskValue(generic, m)
}
