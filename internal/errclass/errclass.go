// Package errclass sorts errors into the classes `retry.on` names: timeout,
// transient, exit and error. It sits below the engine and the task types so
// that helpers of either (an object store, say) can mark an error transient
// without depending on the task API.
package errclass

import (
	"context"
	"errors"
)

// Error classes that `retry.on` can name.
const (
	Timeout   = "timeout"   // the task's timeout elapsed
	Transient = "transient" // a failure worth retrying: network, throttling, 5xx
	Exit      = "exit"      // a child process exited non-zero
	Other     = "error"     // anything else
)

// All lists every error class, for validation of `retry.on`.
func All() []string { return []string{Timeout, Transient, Exit, Other} }

// Error is an error that knows its class.
type Error struct {
	Class string
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// MarkTransient marks err as worth retrying; nil stays nil.
func MarkTransient(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Class: Transient, Err: err}
}

// Of returns the class of err.
func Of(err error) string {
	var ce *Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.As(err, &ce):
		return ce.Class
	}
	return Other
}
