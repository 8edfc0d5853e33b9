package tasktype

import (
	"context"
	"errors"
)

// Error classes that `retry.on` can name.
const (
	ClassTimeout   = "timeout"   // the task's timeout elapsed
	ClassTransient = "transient" // a failure worth retrying: network, throttling, 5xx
	ClassExit      = "exit"      // a child process exited non-zero
	ClassError     = "error"     // anything else
)

// Classes lists every error class, for validation of `retry.on`.
var Classes = []string{ClassTimeout, ClassTransient, ClassExit, ClassError}

// ClassifiedError is an error that knows its class.
type ClassifiedError struct {
	Class string
	Err   error
}

func (e *ClassifiedError) Error() string { return e.Err.Error() }
func (e *ClassifiedError) Unwrap() error { return e.Err }

// Transient marks err as worth retrying.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &ClassifiedError{Class: ClassTransient, Err: err}
}

// Classify returns the class of err.
func Classify(err error) string {
	var ce *ClassifiedError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return ClassTimeout
	case errors.As(err, &ce):
		return ce.Class
	}
	return ClassError
}
