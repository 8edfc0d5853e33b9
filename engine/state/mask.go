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

// maskedTask returns a copy of t with the values a secret may be in
// masked. Outputs or an item that held a secret are marked Masked: what
// is written down is not what later tasks saw, so a resumed run must not
// reuse them.
func maskedTask(t *Task, m *secret.Masker) Task {
	out := *t
	if m == nil {
		return out
	}
	var changed [2]bool
	out.Outputs, changed[0] = maskValue(t.Outputs, m)
	out.Item, changed[1] = maskValue(t.Item, m)
	out.Masked = t.Masked || changed[0] || changed[1]
	out.Error = m.String(t.Error)
	out.Reason = m.String(t.Reason)
	return out
}

// maskValue masks every string (and map key) in v, and says whether that
// changed anything. Values of any other shape go through JSON first,
// numbers kept exactly (json.Number).
func maskValue(v any, m *secret.Masker) (any, bool) {
	switch v := v.(type) {
	case nil, bool, int, int64, float64, json.Number:
		return v, false
	case string:
		masked := m.String(v)
		return masked, masked != v
	case []any:
		out, changed := make([]any, len(v)), false
		for i, x := range v {
			var c bool
			out[i], c = maskValue(x, m)
			changed = changed || c
		}
		return out, changed
	case map[string]any:
		out, changed := make(map[string]any, len(v)), false
		for k, x := range v {
			mk := m.String(k)
			mv, c := maskValue(x, m)
			out[mk] = mv
			changed = changed || c || mk != k
		}
		return out, changed
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, true
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var generic any
	if dec.Decode(&generic) != nil {
		return nil, true
	}
	return maskValue(generic, m)
}

// MaskTask returns a copy of t as a state file keeps it: with the secrets
// m knows masked in its outputs, item, error and reason, and Masked set
// when the outputs or item held one. Other stores of task records (a run's
// shared store under runner exec) keep them the same way.
func MaskTask(t *Task, m *secret.Masker) Task { return maskedTask(t, m) }
