package serve

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/novelfactory/runner/engine/state"
)

// metrics are the server's Prometheus metrics, in a registry of its own:
// nothing global, so tests and two cores in one process do not collide.
type metrics struct {
	reg         *prometheus.Registry
	runs        *prometheus.CounterVec
	tasks       *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	uploaded    *prometheus.CounterVec
	next        *prometheus.GaugeVec
	skipped     *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runner_runs_total", Help: "Runs this server finished, by recipe and status.",
		}, []string{"recipe", "status"}),
		tasks: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "runner_task_duration_seconds", Help: "How long tasks ran, by recipe and task type (a for_each instance counts once).",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600},
		}, []string{"recipe", "type"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "runner_last_success_timestamp_seconds", Help: "When the last successful run of a recipe finished (Unix time).",
		}, []string{"recipe"}),
		uploaded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runner_uploaded_bytes_total", Help: "Bytes s3put tasks uploaded (their bytes output), by recipe.",
		}, []string{"recipe"}),
		next: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "runner_next_run_timestamp_seconds", Help: "When a recipe's schedule fires next (Unix time).",
		}, []string{"recipe"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runner_schedule_skipped_total", Help: "Scheduled fires skipped because a run of the recipe was in progress (overlap: skip).",
		}, []string{"recipe"}),
	}
	m.reg.MustRegister(m.runs, m.tasks, m.lastSuccess, m.uploaded, m.next, m.skipped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Metrics returns the handler of /metrics.
func (c *Core) Metrics() http.Handler {
	return promhttp.HandlerFor(c.metrics.reg, promhttp.HandlerOpts{})
}

// fromHistory sets the last-success gauges from the runs already on disk.
func (m *metrics) fromHistory(c *Core) {
	c.index.mu.RLock()
	defer c.index.mu.RUnlock()
	for abs, runs := range c.index.byRecipe {
		id := c.catalog.idOf(abs)
		if id == "" {
			continue
		}
		for _, e := range runs {
			if e.status == string(state.Succeeded) && e.finished != nil {
				m.lastSuccess.WithLabelValues(id).Set(float64(e.finished.Unix()))
				break
			}
		}
	}
}

// finished counts a run this server ran, and the tasks it ran (not those
// reused from an earlier try of a resumed run).
func (m *metrics) finished(s *served, run *state.Run) {
	m.runs.WithLabelValues(s.id, string(run.Status)).Inc()
	if run.Status == state.Succeeded && run.Finished != nil {
		m.lastSuccess.WithLabelValues(s.id).Set(float64(run.Finished.Unix()))
	}
	for _, t := range run.Tasks {
		if strings.HasPrefix(t.Reason, "reused from run") || t.Started == nil || t.Finished == nil {
			continue
		}
		base, _, _ := strings.Cut(t.ID, "[")
		typ := "unknown"
		if s.recipe != nil {
			if rt := s.recipe.Task(base); rt != nil {
				typ = rt.Uses
			}
		}
		m.tasks.WithLabelValues(s.id, typ).Observe(t.Duration().Seconds())
		if typ == "s3put" && t.Status == state.Succeeded {
			if out, ok := t.Outputs.(map[string]any); ok {
				if n, ok := number(out["bytes"]); ok && n > 0 {
					m.uploaded.WithLabelValues(s.id).Add(n)
				}
			}
		}
	}
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
