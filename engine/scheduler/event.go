package scheduler

import (
	"time"

	"github.com/novelfactory/runner/engine/state"
)

// EventType names what happened.
type EventType string

// The events a run reports, in the order they can happen.
const (
	RunStarted   EventType = "run_started"
	TaskStarted  EventType = "task_started"
	TaskLog      EventType = "task_log"
	TaskProgress EventType = "task_progress"
	TaskRetrying EventType = "task_retrying"
	TaskFinished EventType = "task_finished"
	RunFinished  EventType = "run_finished"
)

// Event is one thing that happened during a run.
type Event struct {
	Time     time.Time     `json:"time"`
	Type     EventType     `json:"event"`
	Run      string        `json:"run,omitempty"`
	Task     string        `json:"task,omitempty"`
	Status   state.Status  `json:"status,omitempty"`
	Attempt  int           `json:"attempt,omitempty"`
	Attempts int           `json:"attempts,omitempty"` // the most tries allowed
	Wait     time.Duration `json:"wait_ns,omitempty"`  // before the next try
	Duration time.Duration `json:"duration_ns,omitempty"`
	Error    string        `json:"error,omitempty"`
	Reason   string        `json:"reason,omitempty"`
	Line     string        `json:"line,omitempty"`
	Done     int64         `json:"done,omitempty"`
	Total    int64         `json:"total,omitempty"`
}

// Sink receives events. It must be safe for concurrent use and fast: it is
// called from the scheduler and from running tasks.
type Sink interface {
	Event(Event)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(Event)

// Event calls f.
func (f SinkFunc) Event(e Event) { f(e) }
